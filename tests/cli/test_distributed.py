"""Distributed runs as users run them: one `enrich --distributed` and `leadenrich worker`s, all
real processes on one store and one sandbox process (one pipe0 org). Parametrised over STORES so
the same tests run on every store that processes share."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from test_cli import CLI, ExternalSandbox, run, sandbox  # noqa: F401 (the fixture)
from test_postgresql import new_database

# name -> the --store value for a test's directory. Each test gets a new, empty store.
STORES = {
    "sqlite": lambda tmp_path: "store.db",
    "postgresql": lambda tmp_path: new_database(),  # on the server scripts/with_postgres.sh starts
}

ENRICH = ["enrich", "-i", "leads.jsonl", "--format", "jsonl", "--signals", "company_overview", "-q",
          "--distributed", "--chunk-size", "3"]


@pytest.fixture(params=sorted(STORES))
def store(request, tmp_path):
    return STORES[request.param](tmp_path)


@pytest.fixture
def slow_sandbox():
    """Each pipe0 request takes a while, so a process can be stopped in the middle of a chunk."""
    s = ExternalSandbox("--latency-ms", "300")
    yield s
    s.close()


def write_leads(tmp_path, n, companies=None):
    """Leads of distinct companies by default: each lookup is needed once, so any repeated billing
    is a chunk enriched twice. With `companies`, lead i works at company i % companies."""
    ids = [f"lead-{i:03d}" for i in range(n)]
    with open(tmp_path / "leads.jsonl", "w", encoding="utf-8") as f:
        for i, lead_id in enumerate(ids):
            c = i % companies if companies else i
            f.write(json.dumps({"lead_id": lead_id, "organization": f"Company {c}",
                                "website": f"https://company{c}.example"}) + "\n")
    return ids


def output_ids(tmp_path):
    lines = (tmp_path / "output" / "enriched_leads.jsonl").read_text().splitlines()
    return [json.loads(line)["lead"]["lead_id"] for line in lines]


def start(args, tmp_path, sandbox):
    return subprocess.Popen([CLI, *args], cwd=tmp_path, env=sandbox.env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def worker(tmp_path, sandbox, store, *extra):
    return start(["worker", "--store", store, *extra], tmp_path, sandbox)


def runs(tmp_path, store):
    r = run(["runs", "--store", store], tmp_path)
    assert r.returncode == 0, r.stderr
    return r.stdout


def wait_for(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"never happened: {what}")


def chunk_held_by(tmp_path, store, pid):
    """The number of a chunk the process `pid` is working on, per `leadenrich runs`."""
    for line in runs(tmp_path, store).splitlines():
        m = re.match(r"\s+chunk (\d+)\tworking\t.*:" + str(pid) + r" \(lease until", line)
        if m:
            return m.group(1)
    return None


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_two_workers_and_the_submitter_write_each_lead_once_in_input_order(tmp_path, store, slow_sandbox):
    ids = write_leads(tmp_path, 24)
    workers = [worker(tmp_path, slow_sandbox, store) for _ in range(2)]
    try:
        r = run([*ENRICH, "--store", store], tmp_path, env=slow_sandbox.env())
        assert r.returncode == 0, r.stderr
    finally:
        results = [stop(w) for w in workers]
    assert output_ids(tmp_path) == ids
    assert slow_sandbox.counters()["repeated_billing"] == 0
    for code, err in results:
        assert code == 0, err
    done_lines = [line for _, err in results for line in err.splitlines() if re.search(r"chunk \d+: \d+ leads done", line)]
    assert done_lines, "the workers did no chunk"
    listing = runs(tmp_path, store)
    assert "finished\t24 leads" in listing
    assert "distributed: 8 chunks, 24 leads: 8 done, 0 working, 0 queued; 24 of 24 leads journaled" in listing


def test_processes_working_on_chunks_of_the_same_companies_pay_for_each_company_once(tmp_path, store,
                                                                                   slow_sandbox):
    # 30 leads over 4 companies in chunks of 3: every process needs every company at about the
    # same moment; the lookup leases let one of them pay and the others wait for its answer.
    ids = write_leads(tmp_path, 30, companies=4)
    workers = [worker(tmp_path, slow_sandbox, store) for _ in range(2)]
    try:
        r = run([*ENRICH, "--store", store], tmp_path, env=slow_sandbox.env())
        assert r.returncode == 0, r.stderr
    finally:
        results = [stop(w) for w in workers]
    assert output_ids(tmp_path) == ids
    counters = slow_sandbox.counters()
    assert counters["repeated_billing"] == 0
    assert sum(counters["billed"].values()) == 4
    for code, err in results:
        assert code == 0, err


def test_a_killed_worker_s_chunk_is_taken_over_and_each_lead_comes_out_once(tmp_path, store, slow_sandbox):
    ids = write_leads(tmp_path, 24)
    doomed = worker(tmp_path, slow_sandbox, store, "--lease", "1s")
    submitter = start([*ENRICH, "--store", store, "--lease", "1s"], tmp_path, slow_sandbox)
    try:
        wait_for(lambda: chunk_held_by(tmp_path, store, doomed.pid), "the worker holds a chunk")
        listing = runs(tmp_path, store)
        assert re.search(r"\n  chunk 0\t(queued|working|done)\tleads 0-2\t", listing), listing
        doomed.kill()
        doomed.wait(timeout=10)
        _, err = submitter.communicate(timeout=120)
        assert submitter.returncode == 0, err
    finally:
        for p in (doomed, submitter):
            if p.poll() is None:
                p.kill()
    assert output_ids(tmp_path) == ids
    assert "1 chunk taken over from a worker that stopped" in runs(tmp_path, store)


def test_sigterm_lets_a_worker_finish_its_chunk_and_exit_0(tmp_path, store, slow_sandbox):
    ids = write_leads(tmp_path, 24)
    w = worker(tmp_path, slow_sandbox, store)
    submitter = start([*ENRICH, "--store", store], tmp_path, slow_sandbox)
    try:
        wait_for(lambda: chunk_held_by(tmp_path, store, w.pid), "the worker holds a chunk")
        code, err = stop(w)
        assert code == 0, err
        assert "stopped" in err
        assert chunk_held_by(tmp_path, store, w.pid) is None  # done, or back in the queue
        _, err = submitter.communicate(timeout=120)
        assert submitter.returncode == 0, err
    finally:
        for p in (w, submitter):
            if p.poll() is None:
                p.kill()
    assert output_ids(tmp_path) == ids
    assert slow_sandbox.counters()["repeated_billing"] == 0  # its chunk was finished, not paid twice


def test_a_killed_submitter_is_resumed_and_completes(tmp_path, store, slow_sandbox):
    ids = write_leads(tmp_path, 24)
    args = [*ENRICH, "--store", store, "--lease", "1s"]
    submitter = start(args, tmp_path, slow_sandbox)
    try:
        def run_with_a_chunk_done():
            m = re.search(r"^(run_\S+)\trunning\t.*\n  distributed: 8 chunks, 24 leads: [1-7] done",
                          runs(tmp_path, store), re.M)
            return m and m.group(1)
        run_id = wait_for(run_with_a_chunk_done, "the submitter finished a chunk")
        submitter.kill()
        submitter.wait(timeout=10)
    finally:
        if submitter.poll() is None:
            submitter.kill()
    assert not (tmp_path / "output" / "enriched_leads.jsonl").exists()
    plain = [a for a in args if a not in ("--distributed", "--chunk-size", "3", "--lease", "1s")]
    refused = run([*plain, "--resume", run_id], tmp_path, env=slow_sandbox.env())
    assert refused.returncode == 2
    assert f"run {run_id} is a distributed run: add --distributed to resume it" in refused.stderr
    r = run([*args, "--resume", run_id], tmp_path, env=slow_sandbox.env())
    assert r.returncode == 0, r.stderr
    assert output_ids(tmp_path) == ids
    assert re.search(re.escape(run_id) + r"\tfinished\t24 leads", runs(tmp_path, store))


def test_the_same_command_after_a_killed_submitter_names_the_run_to_resume(tmp_path, store, slow_sandbox):
    write_leads(tmp_path, 24)
    args = [*ENRICH, "--store", store]
    submitter = start(args, tmp_path, slow_sandbox)
    try:
        def run_with_a_chunk_done():
            m = re.search(r"^(run_\S+)\trunning\t.*\n  distributed: 8 chunks, 24 leads: [1-7] done",
                          runs(tmp_path, store), re.M)
            return m and m.group(1)
        run_id = wait_for(run_with_a_chunk_done, "the submitter finished a chunk")
    finally:
        submitter.kill()
        submitter.wait(timeout=10)
    again = run(args, tmp_path, env=slow_sandbox.env())
    assert again.returncode == 0, again.stderr
    assert "an unfinished run over this input exists" in again.stderr
    assert f"add --resume {run_id} --distributed to collect it" in again.stderr


def test_budget_and_a_store_without_a_queue_are_refused_in_one_line(tmp_path, store, sandbox):
    write_leads(tmp_path, 3)
    budget = run([*ENRICH, "--store", store, "--budget", "10"], tmp_path, env=sandbox.env())
    assert budget.returncode == 2
    assert budget.stderr.strip().count("\n") == 0
    assert "--budget" in budget.stderr and "distributed" in budget.stderr
    no_cache = run([*ENRICH, "--no-cache"], tmp_path, env=sandbox.env())
    assert no_cache.returncode == 2
    assert "--distributed needs a store" in no_cache.stderr
    assert not (tmp_path / "output").exists()


def test_a_worker_with_exit_when_idle_exits_0_when_there_is_nothing_to_do(tmp_path, store, sandbox):
    w = run(["worker", "--store", store, "--exit-when-idle"], tmp_path, env=sandbox.env())
    assert w.returncode == 0, w.stderr
    assert "0 chunks done" in w.stderr


def test_worker_options_are_checked_before_it_connects(tmp_path, store):
    for args, says in ((["--concurrency", "0"], "--concurrency '0': expected a whole number of records from 1"),
                       (["--lease", "never"], "--lease 'never'")):
        r = run(["worker", "--store", store, *args], tmp_path)
        assert r.returncode == 2, r.stderr
        assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_sandbox_worker_joins_a_sandbox_run_as_the_submitter_says(tmp_path):
    # No credentials, no store named: both use the sandbox's store in the working directory.
    w = subprocess.Popen([CLI, "worker", "--sandbox"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        r = run(["enrich", "--sandbox", "--distributed", "--chunk-size", "5", "--format", "jsonl"], tmp_path)
        assert r.returncode == 0, r.stderr
        assert "add workers with `leadenrich worker --sandbox`" in r.stderr
    finally:
        code, err = stop(w)
    assert code == 0, err
    assert "SIGTERM: stopping; finishing the chunk at hand" in err
    ids = output_ids(tmp_path)
    assert len(ids) == len(set(ids)) == 60
    assert "60 of 60 leads journaled" in run(["runs", "--sandbox"], tmp_path).stdout
