"""The store as a user meets it: a second run pays nothing; a killed run resumes where it stopped."""
import json
import sqlite3
import subprocess
import time

from test_cli import CLI, ExternalSandbox, run

CONCURRENCY = 18


def total(counters, key):
    return sum(counters[key].values())


def leads_file(sandbox, tmp_path, n):
    r = run(["leads", "--campaign-id", "cmp_0001", "--limit", str(n), "--format", "jsonl"], tmp_path, env=sandbox.env())
    assert r.returncode == 0, r.stderr
    (tmp_path / "leads.jsonl").write_text(r.stdout)
    return [json.loads(line)["lead_id"] for line in r.stdout.splitlines()]


def test_a_second_run_within_freshness_bills_nothing(tmp_path):
    s = ExternalSandbox()
    try:
        leads_file(s, tmp_path, 40)
        args = ["enrich", "-i", "leads.jsonl", "--store", "store.db", "--format", "json"]
        first = run(args, tmp_path, env=s.env())
        assert first.returncode in (0, 1), first.stderr
        after_first = s.counters()
        assert total(after_first, "billed") > 0
        second = run(args, tmp_path, env=s.env())
        assert second.returncode in (0, 1), second.stderr
        after_second = s.counters()
        assert total(after_second, "billed") == total(after_first, "billed")
        assert total(after_second, "lookups") == total(after_first, "lookups")
        out = json.loads((tmp_path / "output" / "enriched_leads.json").read_text())
        found = [l for l in out if l["signals"]["company_overview"]["status"] in ("found", "no_result")]
        assert found and all(l["signals"]["company_overview"]["from_cache"] for l in found)
        assert "billed             0 lookups" in second.stderr
        # --no-cache pays again.
        third = run(args + ["--no-cache"], tmp_path, env=s.env())
        assert third.returncode in (0, 1)
        assert total(s.counters(), "lookups") > total(after_second, "lookups")
    finally:
        s.close()


def test_a_killed_run_resumes_with_every_lead_once_and_bounded_extra_billing(tmp_path):
    flags = ("--latency-ms", "250", "--leads-per-campaign", "150")
    reference, s = ExternalSandbox(*flags), ExternalSandbox(*flags)
    try:
        ids = leads_file(s, tmp_path, 150)
        args = ["enrich", "-i", "leads.jsonl", "--store", "store.db", "--format", "jsonl",
                "--concurrency", str(CONCURRENCY), "-q"]

        # The same work, uninterrupted, on an identical sandbox: what it should cost.
        (tmp_path / "ref").mkdir()
        (tmp_path / "ref" / "leads.jsonl").write_text((tmp_path / "leads.jsonl").read_text())
        full = run(args, tmp_path / "ref", env=reference.env())
        assert full.returncode in (0, 1), full.stderr
        expected = total(reference.counters(), "billed")

        kills = 0
        for delay in (1.0, 0.8):
            proc = subprocess.Popen([CLI, *args], cwd=tmp_path, env=s.env(),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.kill()
            proc.wait(timeout=10)
            kills += 1
            runs = run(["runs", "--store", "store.db"], tmp_path).stdout.splitlines()
            run_id, state = runs[0].split("\t")[:2]
            assert state == "running"
            args = [a for a in args if not a.startswith("run_") and a != "--resume"] + ["--resume", run_id]
            assert not (tmp_path / "output" / "enriched_leads.jsonl").exists()

        final = run(args, tmp_path, env=s.env())
        assert final.returncode in (0, 1), final.stderr
        out = [json.loads(l)["lead"]["lead_id"] for l in (tmp_path / "output" / "enriched_leads.jsonl").read_text().splitlines()]
        assert out == ids  # every lead exactly once, in input order

        billed = total(s.counters(), "billed")
        # Each kill can lose what was in flight: at most CONCURRENCY records x 4 company pipes.
        print(f"billed {billed} after {kills} kills and resumes; uninterrupted run billed {expected}; "
              f"repeated {s.counters()['repeated_billing']}")
        assert billed <= expected + kills * CONCURRENCY * 4, (billed, expected)
        assert s.counters()["repeated_billing"] <= kills * CONCURRENCY * 4
        newest = run(["runs", "--store", "store.db"], tmp_path).stdout.splitlines()[0].split("\t")
        assert newest[1] == "finished" and newest[2] == f"{len(ids)} leads"
    finally:
        reference.close()
        s.close()


def damage_middle(path):
    """Overwrites 4 KiB in the middle of a file, on a page boundary."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2 // 4096 * 4096)
        f.write(bytes((i * 131 + 7) % 251 for i in range(4096)))


def test_a_damaged_store_stops_the_run_with_exit_4_and_bills_nothing(tmp_path):
    s = ExternalSandbox()
    try:
        leads_file(s, tmp_path, 60)
        args = ["enrich", "-i", "leads.jsonl", "--store", "store.db", "--format", "json", "-q"]
        first = run(args, tmp_path, env=s.env())
        assert first.returncode in (0, 1), first.stderr
        store = tmp_path / "store.db"
        assert not (tmp_path / "store.db-wal").exists() or (tmp_path / "store.db-wal").stat().st_size == 0
        assert store.stat().st_size >= 4 * 4096
        damage_middle(store)
        billed = total(s.counters(), "billed")

        second = run(args, tmp_path, env=s.env())
        assert second.returncode == 4, second.stderr
        lines = [l for l in second.stderr.splitlines() if l.strip()]
        assert len(lines) == 1, second.stderr  # one clear error
        assert "store.db is damaged" in lines[0] and "move it aside" in lines[0] and "--no-cache" in lines[0]
        assert total(s.counters(), "billed") == billed

        # The ways out it names work: without the cache, or with the file moved aside.
        assert run(args + ["--no-cache"], tmp_path, env=s.env()).returncode in (0, 1)
        store.rename(tmp_path / "store.db.damaged")
        assert run(args, tmp_path, env=s.env()).returncode in (0, 1)
    finally:
        s.close()


def test_store_problems_exit_4_naming_the_path(tmp_path):
    (tmp_path / "adir").mkdir()
    r = run(["enrich", "--sandbox", "--store", "adir", "-q"], tmp_path)
    assert r.returncode == 4, r.stderr
    assert "adir is a directory" in r.stderr

    (tmp_path / "garbage.db").write_bytes(b"not a database" * 1000)
    r = run(["enrich", "--sandbox", "--store", "garbage.db", "-q"], tmp_path)
    assert r.returncode == 4, r.stderr
    assert "garbage.db is damaged" in r.stderr

    newer = tmp_path / "newer.db"
    db = sqlite3.connect(newer)
    db.execute("PRAGMA user_version = 99")
    db.close()
    r = run(["enrich", "--sandbox", "--store", "newer.db", "-q"], tmp_path)
    assert r.returncode == 4, r.stderr
    assert "newer.db: written by a newer leadenrich" in r.stderr

    r = run(["runs", "--store", "garbage.db"], tmp_path)
    assert r.returncode == 4, r.stderr

    r = run(["enrich", "--sandbox", "--store", "/dev/null/store.db", "-q"], tmp_path)
    assert r.returncode == 4, r.stderr
    assert "store /dev/null/store.db: cannot create /dev/null" in r.stderr

    # Another process holds the store locked: after the busy timeout, exit 4 saying so.
    assert run(["enrich", "--sandbox", "--store", "held.db", "-q", "--signals", "news"], tmp_path).returncode in (0, 1)
    holder = sqlite3.connect(tmp_path / "held.db", isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        r = run(["enrich", "--sandbox", "--store", "held.db", "-q"], tmp_path)
    finally:
        holder.close()
    assert r.returncode == 4, r.stderr
    assert "held.db" in r.stderr and "another process holds it locked" in r.stderr
