"""Single flight across processes: several leadenrich processes on one store pay pipe0 once per
(company, signal) between them. Real processes: one leadenrich-sandbox (one pipe0 org, whose
counters say what was billed and whether anything was billed twice), and two `leadenrich enrich`
commands or two `leadenrich-server` replicas on one store.

Each test runs once per store kind in STORES: a SQLite file, and a new PostgreSQL database."""
import json
import os
import subprocess
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
sys.path.insert(0, os.path.dirname(__file__))
from test_cli import CLI, ExternalSandbox, run  # noqa: E402
from test_server import COMPANY_PIPES, KEY, PERSON_PIPE, Server  # noqa: E402
from test_postgresql import new_database  # noqa: E402

# Store kind -> the --store value several processes share (tmp_path is the test's directory).
STORES = {
    "sqlite": lambda tmp_path: str(tmp_path / "shared.db"),
    "postgresql": lambda tmp_path: new_database(),  # on the server scripts/with_postgres.sh starts
}


@pytest.fixture(params=sorted(STORES))
def shared_store(request, tmp_path):
    return STORES[request.param](tmp_path)


def replica(cwd, store, env, jobs_dir, expect_start=True):
    """leadenrich-server on the shared store, with its own jobs directory."""
    return Server(cwd, "--jobs-dir", jobs_dir, env=env, store=store, expect_start=expect_start)


def test_two_enrich_commands_on_one_store_pay_each_lookup_once(tmp_path, shared_store):
    sandbox = ExternalSandbox("--latency-ms", "200", "--leads-per-campaign", "80")
    try:
        r = run(["leads", "--campaign-id", "cmp_0001", "--limit", "80", "--format", "jsonl"], tmp_path,
                env=sandbox.env())
        assert r.returncode == 0, r.stderr
        ids = [json.loads(line)["lead_id"] for line in r.stdout.splitlines()]
        args = ["enrich", "-i", "leads.jsonl", "--store", shared_store, "--format", "jsonl", "-q"]
        procs = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "leads.jsonl").write_text(r.stdout)
        for name in ("a", "b"):  # started together: both miss the cache for the same companies
            procs.append(subprocess.Popen([CLI, *args], cwd=tmp_path / name, env=sandbox.env(),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode in (0, 1), err
        for name in ("a", "b"):
            out = [json.loads(line) for line in (tmp_path / name / "output" / "enriched_leads.jsonl").read_text().splitlines()]
            assert [l["lead"]["lead_id"] for l in out] == ids  # every lead, once, in input order
            for l in out:
                assert l["signals"]["company_overview"]["status"] in ("found", "no_result", "skipped"), l["signals"]
        counters = sandbox.counters()
        print(f"lookups {counters['lookups']} billed {counters['billed']} repeated {counters['repeated_billing']}")
        assert sum(counters["billed"].values()) > 0
        assert counters["repeated_billing"] == 0
    finally:
        sandbox.close()


def test_two_server_replicas_on_one_store_make_one_lookup_per_company_signal(tmp_path, shared_store):
    sandbox = ExternalSandbox("--latency-ms", "300")
    env = sandbox.env(LEADENRICH_API_KEYS=KEY)
    replicas = [replica(tmp_path, shared_store, env, "replica1.jobs"), replica(tmp_path, shared_store, env, "replica2.jobs")]
    try:
        companies, n = 5, 50
        leads = [{"lead_id": f"rep-{i}", "name": f"Person {i}", "website": f"https://replica-{i % companies}.io",
                  "linkedin_url": f"https://www.linkedin.com/in/replica-person-{i}"} for i in range(n)]
        results = [None] * n

        def enrich(i):
            results[i] = replicas[i % 2].json("POST", f"/v1/leads/rep-{i}/enrich", body=leads[i], timeout=60)

        threads = [threading.Thread(target=enrich, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        assert all(r and r[0] == 200 for r in results), results
        counters = sandbox.counters()
        print(f"lookups {counters['lookups']} billed {counters['billed']} repeated {counters['repeated_billing']}")
        for pipe in COMPANY_PIPES:
            assert counters["lookups"].get(pipe) == companies, (pipe, counters["lookups"])
            assert counters["billed"].get(pipe, 0) <= companies
        assert counters["lookups"].get(PERSON_PIPE) == n
        assert counters["repeated_billing"] == 0
        # Every lead of a company got that company's one answer, whichever replica served it.
        for c in range(companies):
            overviews = {json.dumps(results[i][1]["signals"]["company_overview"]) for i in range(c, n, companies)
                         if results[i][1]["signals"]["company_overview"]["status"] == "found"}
            values = {json.dumps(json.loads(o)["value"]) for o in overviews}
            assert len(values) <= 1, values
    finally:
        for r in replicas:
            r.close()
        sandbox.close()


def test_a_second_server_on_the_same_jobs_directory_refuses_to_start(tmp_path, shared_store):
    # It would queue the first one's unfinished jobs again and write the same files.
    sandbox = ExternalSandbox()
    env = sandbox.env(LEADENRICH_API_KEYS=KEY)
    first = replica(tmp_path, shared_store, env, "jobs")
    try:
        second = replica(tmp_path, shared_store, env, "jobs", expect_start=False)
        assert second.proc.wait(timeout=20) != 0
        second.reader.join(timeout=5)
        assert second.url is None
        errors = [line for line in second.lines if "jobs directory jobs is in use by another leadenrich-server" in line]
        assert errors and "--jobs-dir" in errors[0], second.lines
    finally:
        first.close()
        sandbox.close()
