"""The leadenrich command line, run as a user would: real binaries, a sandbox on loopback."""
import csv
import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

BIN = os.environ.get("LEADENRICH_BIN_DIR", "build/apps")
CLI = os.path.join(BIN, "leadenrich")
SANDBOX = os.path.join(BIN, "leadenrich-sandbox")
CSV_COLUMNS_START = ["lead_id", "name", "email", "phone", "organization", "designation"]
SECRET = "s3cret-key-never-printed"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ATURIYA_", "PIPE0_", "LEADENRICH_SIGNALS"))}
    env.update(extra)
    return env


def run(args, tmp_path, env=None, stdin=None, timeout=120):
    return subprocess.run([CLI, *args], cwd=tmp_path, env=env or clean_env(), input=stdin,
                          capture_output=True, text=True, timeout=timeout)


class ExternalSandbox:
    """leadenrich-sandbox in its own process; its first line is the base URL."""

    def __init__(self, *flags):
        self.proc = subprocess.Popen([SANDBOX, "--port", "0", "-q", *flags], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip()
        self.vars = {}
        for _ in range(6):
            key, _, value = self.proc.stdout.readline().strip().partition("=")
            self.vars[key] = value
        assert self.url.startswith("http://127.0.0.1:")

    def env(self, **extra):
        return clean_env(**{**self.vars, **extra})

    def counters(self):
        with urllib.request.urlopen(self.url + "/sandbox/counters", timeout=10) as r:
            return json.load(r)

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


@pytest.fixture
def sandbox():
    s = ExternalSandbox()
    yield s
    s.close()


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_quick_start_writes_json_and_csv_and_prints_a_summary(tmp_path):
    r = run(["enrich", "--sandbox"], tmp_path)
    assert r.returncode in (0, 1), r.stderr
    leads = read_json(tmp_path / "output" / "enriched_leads.json")
    assert len(leads) == 60
    assert all(lead["sandbox"] for lead in leads)
    assert len({lead["lead"]["lead_id"] for lead in leads}) == 60
    with open(tmp_path / "output" / "enriched_leads.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:6] == CSV_COLUMNS_START
    assert len(rows) == 61
    assert "leadenrich summary (SANDBOX DATA" in r.stderr
    assert "company_overview" in r.stderr
    assert not list((tmp_path / "output").glob("*.tmp-*"))


def test_an_apollo_csv_export_is_enriched_with_its_headers_mapped(tmp_path, sandbox):
    (tmp_path / "apollo.csv").write_text(
        "First Name,Last Name,Title,Company,Email,Website,Person Linkedin Url,Seniority\n"
        "Jane,Doe,VP Sales,Acme,jane@acme.com,https://www.acme.com,https://linkedin.com/in/jane-doe,VP\n"
        "Omar,Haddad,CTO,Acme,omar@acme.com,,,C-Suite\n", encoding="utf-8")
    r = run(["enrich", "-i", "apollo.csv", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    leads = read_json(tmp_path / "output" / "enriched_leads.json")
    assert [l["lead"]["name"] for l in leads] == ["Jane Doe", "Omar Haddad"]
    assert leads[0]["lead"]["designation"] == "VP Sales"
    assert leads[0]["lead"]["Seniority"] == "VP"
    assert leads[0]["company_key"] == leads[1]["company_key"] == "acme.com"
    assert leads[1]["signals"]["linkedin_posts"]["reason"]["code"] == "missing_input"
    # One company, looked up once for its four company pipes.
    assert sandbox.counters()["lookups"]["company:overview@2"] == 1


def test_json_lines_from_stdin_stream_to_stdout(tmp_path, sandbox):
    lines = "".join(json.dumps({"lead_id": f"s{i}", "email": f"x{i}@globex{i % 2}.io"}) + "\n" for i in range(4))
    r = run(["enrich", "-i", "-", "-o", "-", "--signals", "news"], tmp_path, env=sandbox.env(), stdin=lines)
    assert r.returncode in (0, 1), r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["lead"]["lead_id"] for o in out] == ["s0", "s1", "s2", "s3"]
    assert all(o["signals"]["company_overview"]["status"] == "disabled" for o in out)
    assert not (tmp_path / "output").exists()


def test_dash_o_writes_the_file_it_names_in_its_extension_s_format(tmp_path, sandbox):
    lines = "".join(json.dumps({"lead_id": f"o{i}", "email": f"x{i}@globex.io"}) + "\n" for i in range(3))
    (tmp_path / "leads.jsonl").write_text(lines)
    r = run(["enrich", "-i", "leads.jsonl", "-o", "enriched.jsonl", "--signals", "news"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    out = [json.loads(line) for line in (tmp_path / "enriched.jsonl").read_text().splitlines()]
    assert [o["lead"]["lead_id"] for o in out] == ["o0", "o1", "o2"]
    assert not (tmp_path / "output").exists()
    r = run(["enrich", "-i", "leads.jsonl", "-o", "enriched.csv", "--signals", "news"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    assert (tmp_path / "enriched.csv").read_text().splitlines()[0].startswith("lead_id")
    # A name that says no format, or two formats for one file: one line, nothing written.
    for args, says in ((["-o", "enriched.txt"], "-o 'enriched.txt': name a .json, .jsonl or .csv file"),
                       (["-o", "e.json", "--format", "both"], "--format both writes two")):
        r = run(["enrich", "-i", "leads.jsonl", *args], tmp_path, env=sandbox.env())
        assert r.returncode == 2 and says in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "enriched.txt").exists() and not (tmp_path / "e.json").exists()


def test_a_json_array_file_to_jsonl(tmp_path, sandbox):
    (tmp_path / "leads.json").write_text(json.dumps([{"lead_id": 1, "website": "initech.com"},
                                                     {"lead_id": 2, "email": "b@gmail.com"}]))
    r = run(["enrich", "-i", "leads.json", "--format", "jsonl"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    out = (tmp_path / "output" / "enriched_leads.jsonl").read_text().splitlines()
    assert [json.loads(l)["lead"]["lead_id"] for l in out] == ["1", "2"]


def test_limit_applies_while_paging(tmp_path, sandbox):
    r = run(["enrich", "--campaign-id", "cmp_0002", "--limit", "5", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    assert len(read_json(tmp_path / "output" / "enriched_leads.json")) == 5
    assert sandbox.counters()["requests"]["aturiya leads"] == 1


def test_dry_run_estimates_and_spends_nothing(tmp_path, sandbox):
    r = run(["enrich", "--dry-run"], tmp_path, env=sandbox.env())
    assert r.returncode == 0, r.stderr
    assert "dry run: nothing was sent and nothing was spent" in r.stderr
    assert "estimated credits" in r.stderr
    counters = sandbox.counters()
    assert counters["records"] == 0
    assert not any(k.startswith("pipe0") for k in counters["requests"])
    assert not (tmp_path / "output").exists()


def test_a_budget_stops_spend_and_marks_the_rest(tmp_path, sandbox):
    r = run(["enrich", "--budget", "3", "--signals", "company_overview", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    statuses = [l["signals"]["company_overview"]["status"] for l in read_json(tmp_path / "output" / "enriched_leads.json")]
    assert "budget_exhausted" in statuses
    assert sandbox.counters()["lookups"]["company:overview@2"] <= 3
    assert "budget reached" in r.stderr


def test_malformed_rows_are_named_by_line_and_the_rest_is_processed(tmp_path, sandbox):
    (tmp_path / "bad.csv").write_bytes(b"lead_id,email\n1,a@acme.com\n2,\"broken\n")
    (tmp_path / "bad.jsonl").write_text('{"lead_id": "a", "email": "a@acme.com"}\n{oops}\n{"lead_id": "a"}\n')
    r = run(["enrich", "-i", "bad.jsonl", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode == 1
    assert "bad.jsonl:2: invalid JSON" in r.stderr
    assert "bad.jsonl:3: duplicate lead_id 'a' (first seen at bad.jsonl:1) (skipped)" in r.stderr
    assert len(read_json(tmp_path / "output" / "enriched_leads.json")) == 1
    r = run(["enrich", "-i", "bad.csv", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode == 1
    assert "bad.csv:3: unterminated quoted field starting at line 3" in r.stderr


def test_a_killed_run_leaves_no_file_under_the_final_name(tmp_path):
    slow = ExternalSandbox("--latency-ms", "3000")
    try:
        proc = subprocess.Popen([CLI, "enrich", "-q"], cwd=tmp_path, env=slow.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        proc.kill()
        proc.wait(timeout=10)
        assert not (tmp_path / "output" / "enriched_leads.json").exists()
        assert not (tmp_path / "output" / "enriched_leads.csv").exists()
    finally:
        slow.close()


def test_missing_credentials_exit_2_naming_the_variable(tmp_path):
    r = run(["enrich"], tmp_path)
    assert r.returncode == 2
    assert "ATURIYA_BEARER_TOKEN" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "x.jsonl").write_text('{"lead_id": "1"}\n')
    r = run(["enrich", "-i", "x.jsonl"], tmp_path)
    assert r.returncode == 2
    assert "PIPE0_API_KEY" in r.stderr


def test_an_unreachable_api_exits_3(tmp_path):
    env = clean_env(ATURIYA_BEARER_TOKEN=SECRET, ATURIYA_USER_ID="u", ATURIYA_AGENT_ID="a",
                    ATURIYA_BASE_URL="http://127.0.0.1:9")
    r = run(["campaigns"], tmp_path, env=env)
    assert r.returncode == 3
    assert "Aturiya is unreachable" in r.stderr
    assert SECRET not in r.stderr + r.stdout


def test_a_rejected_token_exits_3_without_echoing_it(tmp_path):
    s = ExternalSandbox("--require-key", "the-right-key")
    try:
        env = s.env(ATURIYA_BEARER_TOKEN=SECRET, PIPE0_API_KEY=SECRET)
        r = run(["enrich", "--format", "json"], tmp_path, env=env)
        assert r.returncode == 3
        assert "rejected the token" in r.stderr
        assert SECRET not in r.stderr + r.stdout
    finally:
        s.close()


def test_usage_errors_exit_2_and_help_and_version_exit_0(tmp_path):
    assert run(["enrich", "--format", "xml"], tmp_path).returncode == 2
    assert run(["frobnicate"], tmp_path).returncode == 2
    assert run(["enrich", "--map", "nonsense"], tmp_path).returncode == 2
    h = run(["enrich", "--help"], tmp_path)
    assert h.returncode == 0 and "--dry-run" in h.stdout
    v = run(["--version"], tmp_path)
    assert v.returncode == 0 and v.stdout.startswith("leadenrich ")


def test_campaigns_leads_and_doctor_on_the_sandbox(tmp_path):
    c = run(["campaigns", "--sandbox"], tmp_path)
    assert c.returncode == 0 and c.stdout.startswith("cmp_0001\t")
    l = run(["leads", "--sandbox", "--limit", "3"], tmp_path)
    assert l.returncode == 0
    assert len(l.stdout.splitlines()) == 3
    d = run(["doctor", "--sandbox"], tmp_path)
    assert d.returncode == 0, d.stdout + d.stderr
    assert "PIPE0_API_KEY=***" in d.stdout
    assert "sandbox-key" not in d.stdout


def test_json_lines_to_stdout_leave_as_each_lead_is_done_not_at_the_end(tmp_path):
    # A consumer of `-o -` (a pipe to the agent) sees each lead while the run goes on: lines are
    # flushed after the engine step that finished them, not only when the run ends.
    slow = ExternalSandbox("--latency-ms", "300")
    leads = tmp_path / "leads.jsonl"
    leads.write_text("".join(json.dumps({"lead_id": f"l{i}", "email": f"x@globex{i}.io"}) + "\n" for i in range(6)))
    proc = subprocess.Popen([CLI, "enrich", "-i", str(leads), "-o", "-", "--signals", "news", "--concurrency", "1",
                             "--no-cache"], cwd=tmp_path, env=slow.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        first = json.loads(proc.stdout.readline())
        assert first["lead"]["lead_id"] == "l0"
        # One lookup at a time: when the first line arrived, pipe0 had not yet been asked for all six.
        assert sum(slow.counters()["lookups"].values()) < 6
        rest = [json.loads(line)["lead"]["lead_id"] for line in proc.stdout]
        assert rest == [f"l{i}" for i in range(1, 6)]
        assert proc.wait(timeout=30) in (0, 1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        slow.close()
