#!/usr/bin/env python3
"""Scale-out on PostgreSQL, measured with real processes: a submitter and workers on one
PostgreSQL database, against one leadenrich-sandbox (one pipe0 org, one P1 capacity).

    scripts/with_postgres.sh /usr/bin/python3 bench/scaleout_bench.py            # every scenario
    scripts/with_postgres.sh /usr/bin/python3 bench/scaleout_bench.py fleet kill

Scenarios (each on a new database, so nothing is cached from an earlier one):
  fleet     20,000 leads over 4,000 companies, the submitter and 3 workers: every lead exactly
            once in input order, repeated billing.
  kill      the same with one worker SIGKILLed mid-run: every lead still once; repeated billing
            against the records that worker had in flight.
  speedup   P1 capacity 300, each process capped at --concurrency 100: 1 process against 3.
  replicas  two leadenrich-server processes on one database, 50 concurrent requests for leads of
            5 companies spread over both: lookups billed.

LEADENRICH_TEST_POSTGRES (set by scripts/with_postgres.sh) names the server; LEADENRICH_BIN_DIR
the programs (default build/apps).
"""

import argparse
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(os.environ.get("LEADENRICH_BIN_DIR", os.path.join(ROOT, "build", "apps")))
BASE_URI = os.environ.get("LEADENRICH_TEST_POSTGRES", "")
COMPANY_SIGNALS = "company_overview,tech_stack,funding,news"
KEY = "scaleout-bench-key"


def fail(message):
    print(f"scaleout_bench: {message}", file=sys.stderr)
    sys.exit(1)


def new_database(name):
    """A new, empty database on the server; its URI."""
    subprocess.run(["psql", BASE_URI, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["psql", BASE_URI, "-qc", f"CREATE DATABASE {name}"], check=True)
    parts = urllib.parse.urlsplit(BASE_URI)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


class Sandbox:
    """leadenrich-sandbox in its own process: one pipe0 org that every process shares."""

    def __init__(self, latency_ms, p1_capacity):
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "leadenrich-sandbox"), "--port", "0", "-q", "--latency-ms", str(latency_ms),
             "--p1-capacity", str(p1_capacity)],
            stdout=subprocess.PIPE, text=True)
        self.base_url = self.proc.stdout.readline().strip()
        self.env = dict(os.environ)
        for line in iter(self.proc.stdout.readline, ""):
            line = line.strip()
            if not line:
                break
            key, _, value = line.partition("=")
            self.env[key] = value
            if key == "ATURIYA_AGENT_ID":
                break
        self.env["LEADENRICH_SIGNALS"] = COMPANY_SIGNALS

    def counters(self):
        with urllib.request.urlopen(self.base_url + "/sandbox/counters", timeout=10) as r:
            return json.load(r)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def write_leads(path, leads, companies):
    with open(path, "w") as f:
        for i in range(leads):
            c = i % companies
            f.write(json.dumps({"lead_id": f"lead-{i:06d}", "name": f"Person {i}", "organization": f"Company {c}",
                                "email": f"person{i}@company{c}.com", "website": f"https://www.company{c}.com/"}) + "\n")


def check_output(path, leads):
    with open(path) as f:
        ids = [json.loads(line)["lead"]["lead_id"] for line in f if line.strip()]
    expected = [f"lead-{i:06d}" for i in range(leads)]
    if ids != expected:
        missing = len(set(expected) - set(ids))
        fail(f"{path}: {len(ids)} leads, {missing} missing, in order: {ids == sorted(ids)}")
    return len(ids)


def start_worker(sandbox, store, log_path, *extra):
    with open(log_path, "w") as log:  # the worker's own copy stays open
        return subprocess.Popen([os.path.join(BIN, "leadenrich"), "worker", "--store", store, *extra],
                                env=sandbox.env, stdout=subprocess.DEVNULL, stderr=log, text=True)


def stop_workers(workers):
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        w.wait(timeout=60)


def distributed_run(name, processes, leads=20000, companies=4000, latency_ms=300, p1=150, concurrency=None,
                    kill_one_at=None):
    """Submitter plus processes-1 workers; returns the figures."""
    store = new_database(name)
    sandbox = Sandbox(latency_ms, p1)
    cap = ["--concurrency", str(concurrency)] if concurrency else []
    with tempfile.TemporaryDirectory() as tmp:
        leads_path, out_path = os.path.join(tmp, "leads.jsonl"), os.path.join(tmp, "out.jsonl")
        write_leads(leads_path, leads, companies)
        started = time.monotonic()
        submitter = subprocess.Popen(
            [os.path.join(BIN, "leadenrich"), "enrich", "-i", leads_path, "--store", store, "--distributed",
             "-o", out_path, *cap], env=sandbox.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        workers = [start_worker(sandbox, store, os.path.join(tmp, f"worker{k}.log"), *cap)
                   for k in range(processes - 1)]
        killed = None
        if kill_one_at is not None:
            # SIGKILL the first worker once the run is that far along (leads billed so far).
            target = kill_one_at * leads * len(COMPANY_SIGNALS.split(",")) / 5
            while submitter.poll() is None and sum(sandbox.counters()["billed"].values()) < target:
                time.sleep(0.05)
            killed = sandbox.counters()
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
        _, err = submitter.communicate(timeout=3600)
        wall = time.monotonic() - started
        stop_workers(workers)
        for k, w in enumerate(workers):
            if w.returncode != 0 and not (k == 0 and kill_one_at is not None):
                with open(os.path.join(tmp, f"worker{k}.log")) as log:
                    fail(f"{name}: worker {k} exited {w.returncode}: {log.read().strip()[-2000:]}")
        if submitter.returncode != 0:
            fail(f"{name}: the submitter exited {submitter.returncode}: {err.strip()[-2000:]}")
        n = check_output(out_path, leads)
    counters = sandbox.counters()
    sandbox.stop()
    return {"scenario": name, "processes": processes, "leads": n, "wall_s": round(wall, 2),
            "leads_per_s": round(n / wall, 1), "billed": sum(counters["billed"].values()),
            "repeated_billing": counters["repeated_billing"],
            "peak_records_in_flight": counters["peak_records_in_flight"],
            "runs_by_priority": counters["runs_by_priority"],
            "killed_at_billed": sum(killed["billed"].values()) if killed else None,
            # Every process's records in flight at the kill: an upper bound of the killed worker's.
            "records_in_flight_at_kill": killed["records_in_flight"] if killed else None}


def replicas(requests=50, companies=5):
    store = new_database("bench_replicas")
    sandbox = Sandbox(300, 150)
    servers, urls, logs = [], [], []
    tmp = tempfile.TemporaryDirectory()
    for k in range(2):
        log = open(os.path.join(tmp.name, f"replica{k}.log"), "w+")
        p = subprocess.Popen([os.path.join(BIN, "leadenrich-server"), "--port", "0", "--store", store,
                              "--jobs-dir", os.path.join(tmp.name, f"replica{k}.jobs")],
                             env=dict(sandbox.env, LEADENRICH_API_KEYS=KEY), stdout=subprocess.DEVNULL, stderr=log,
                             text=True)
        servers.append(p)
        logs.append(log)
    for p, log in zip(servers, logs):
        deadline = time.monotonic() + 30
        while True:
            log.seek(0)
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", log.read())
            if m:
                urls.append(m.group(1))
                break
            if p.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                fail("a leadenrich-server replica did not start: " + log.read()[-2000:])
            time.sleep(0.05)

    def ask(i):
        c = i % companies
        lead = {"lead_id": f"r-{i}", "name": f"Person {i}", "organization": f"Company {c}",
                "email": f"person{i}@company{c}.com", "website": f"https://www.company{c}.com/"}
        req = urllib.request.Request(urls[i % 2] + f"/v1/leads/r-{i}/enrich", data=json.dumps(lead).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status

    with concurrent.futures.ThreadPoolExecutor(requests) as pool:
        statuses = list(pool.map(ask, range(requests)))
    for p in servers:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    for log in logs:
        log.close()
    tmp.cleanup()
    counters = sandbox.counters()
    sandbox.stop()
    return {"scenario": "replicas", "requests": requests, "ok": statuses.count(200),
            "lookups": sum(counters["lookups"].values()), "billed": sum(counters["billed"].values()),
            "expected": companies * len(COMPANY_SIGNALS.split(",")),
            "repeated_billing": counters["repeated_billing"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", default=["fleet", "kill", "speedup", "replicas"])
    parser.add_argument("--leads", type=int, default=20000)
    parser.add_argument("--companies", type=int, default=4000)
    args = parser.parse_args()
    if not BASE_URI:
        fail("LEADENRICH_TEST_POSTGRES is not set: run me through scripts/with_postgres.sh")
    for s in args.scenarios:
        if s == "fleet":
            r = distributed_run("bench_fleet", 4, args.leads, args.companies)
        elif s == "kill":
            r = distributed_run("bench_kill", 4, args.leads, args.companies, kill_one_at=0.4)
        elif s == "speedup":
            one = distributed_run("bench_one", 1, args.leads, args.companies, p1=300, concurrency=100)
            three = distributed_run("bench_three", 3, args.leads, args.companies, p1=300, concurrency=100)
            r = {"scenario": "speedup", "one": one, "three": three,
                 "speedup": round(one["wall_s"] / three["wall_s"], 2)}
        elif s == "replicas":
            r = replicas()
        else:
            fail(f"unknown scenario {s}")
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
