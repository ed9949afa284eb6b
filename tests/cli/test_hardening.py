"""The command line leaned on: nonsense numbers, special output files, write failures,
interruption and resume, runs busy in another process."""
import json
import os
import re
import signal
import stat
import subprocess
import threading
import time

import pytest

from test_cli import CLI, ExternalSandbox, clean_env, read_json, run, sandbox  # noqa: F401 (a fixture)


def leads_file(sandbox, tmp_path, n, name="leads.jsonl"):
    r = run(["leads", "--campaign-id", "cmp_0001", "--limit", str(n), "--format", "jsonl"], tmp_path,
            env=sandbox.env())
    assert r.returncode == 0, r.stderr
    (tmp_path / name).write_text(r.stdout)
    return [json.loads(line)["lead_id"] for line in r.stdout.splitlines()]


def runs_of(tmp_path, store="store.db"):
    r = run(["runs", "--store", store], tmp_path)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines()]


def errors(stderr):
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# ---- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("args,option", [
    (["--budget", "-5"], "--budget"), (["--budget", "nan"], "--budget"), (["--budget", "inf"], "--budget"),
    (["--budget", "1e999"], "--budget"), (["--budget", "12abc"], "--budget"),
    (["--limit", "-1"], "--limit"), (["--limit", "0"], "--limit"), (["--limit", "2.5"], "--limit"),
    (["--concurrency", "0"], "--concurrency"), (["--concurrency", "-3"], "--concurrency"),
    (["--concurrency", "1e3"], "--concurrency"),
    (["--max-age", "garbage"], "--max-age"), (["--max-age", "-5s"], "--max-age"),
    (["--max-age", "999999999999d"], "--max-age"),
])
def test_every_numeric_option_rejects_nonsense_naming_the_option(tmp_path, args, option):
    # A dry run over the sandbox would succeed: only the number can make it fail.
    r = run(["enrich", "--sandbox", "--dry-run", *args], tmp_path)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert option in r.stderr
    assert len(errors(r.stderr)) == 1, r.stderr


def test_sensible_numbers_are_accepted(tmp_path):
    r = run(["enrich", "--sandbox", "--dry-run", "--budget", "0", "--limit", "5", "--concurrency", "9",
             "--max-age", "0"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "leads 5" in r.stderr


def test_leads_and_sandbox_numbers_are_checked_too(tmp_path):
    r = run(["leads", "--sandbox", "--limit", "0"], tmp_path)
    assert r.returncode == 2 and "--limit" in r.stderr
    r = run(["sandbox", "--port", "70000"], tmp_path)
    assert r.returncode == 2 and "--port" in r.stderr


# ---- output files ----------------------------------------------------------------------------

def test_a_character_device_is_written_in_place_not_replaced(tmp_path):
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("making a device node needs root")
    r = run(["enrich", "--sandbox", "--format", "jsonl", "-o", str(null)], tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode), "the device was replaced by a regular file"
    assert not list(tmp_path.glob("null.tmp-*"))


def test_a_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "leads.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, encoding="utf-8").read()))
    reader.start()
    r = run(["enrich", "--sandbox", "--format", "jsonl", "-o", str(fifo)], tmp_path)
    reader.join(timeout=60)
    assert r.returncode in (0, 1), r.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(received[0].splitlines()) == 60


def test_a_symlink_is_followed_and_kept(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "leads.json"
    target.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(os.path.join("real", "leads.json"))
    r = run(["enrich", "--sandbox", "--format", "json", "-o", "latest.json"], tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert link.is_symlink()
    assert len(read_json(target)) == 60
    assert not list((tmp_path / "real").glob("*.tmp-*")) and not list(tmp_path.glob("*.tmp-*"))


def test_leftovers_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "output"
    out.mkdir()
    stale = out / f"enriched_leads.json.tmp-{dead_pid()}"
    live = out / f"enriched_leads.json.tmp-{os.getpid()}"  # this test's own process is alive
    stale.write_text("[")
    live.write_text("[")
    r = run(["enrich", "--sandbox", "--format", "json"], tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert not stale.exists()
    assert live.exists()


def test_a_full_output_device_says_why_once(tmp_path):
    full = tmp_path / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # a /dev/full of our own
    except PermissionError:
        pytest.skip("making a device node needs root")
    r = run(["enrich", "--sandbox", "--format", "jsonl", "-o", str(full)], tmp_path)
    assert r.returncode == 1, r.stderr
    assert len(errors(r.stderr)) == 1, r.stderr
    assert "No space left on device" in errors(r.stderr)[0]
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_stdout_into_a_closed_pipe_prints_one_line(tmp_path):
    proc = subprocess.Popen([CLI, "enrich", "--sandbox", "-o", "-", "-q"], cwd=tmp_path, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader went away (`leadenrich ... | head -0`)
    stderr = proc.stderr.read()
    code = proc.wait(timeout=60)
    assert code == 1, (code, stderr)  # not killed by SIGPIPE
    assert errors(stderr) == ["error: stdout: Broken pipe"], stderr


# ---- journal ----------------------------------------------------------------------------------

def test_a_run_that_fails_before_enriching_is_not_left_running(tmp_path, sandbox):
    leads_file(sandbox, tmp_path, 5)
    (tmp_path / "taken").mkdir()
    r = run(["enrich", "-i", "leads.jsonl", "--store", "store.db", "--format", "json", "-o", "taken"], tmp_path,
            env=sandbox.env())
    assert r.returncode == 2
    assert "taken: is a directory" in r.stderr
    assert [row for row in runs_of(tmp_path) if row[1] == "running"] == []


def test_run_fingerprints_are_readable(tmp_path, sandbox):
    leads_file(sandbox, tmp_path, 3)
    r = run(["enrich", "-i", "leads.jsonl", "--store", "store.db", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    (row,) = runs_of(tmp_path)
    assert re.search(r"leads\.jsonl \(\d+ bytes, modified \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\); signals ",
                     row[4]), row[4]


def test_the_unfinished_run_hint_never_points_at_a_run_still_going(tmp_path):
    slow = ExternalSandbox("--latency-ms", "4000")
    try:
        leads_file(slow, tmp_path, 20)
        args = ["enrich", "-i", "leads.jsonl", "--store", "store.db", "--format", "json", "-q"]
        assert runs_of(tmp_path) == []  # creates the store, so the polling below never races its creation
        busy = subprocess.Popen([CLI, *args, "--output-dir", "busy"], cwd=tmp_path, env=slow.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for(lambda: any(r[1] == "running" for r in runs_of(tmp_path)))
            busy_id = runs_of(tmp_path)[0][0]
            # Resuming it from here is refused: it is going on in another process.
            r = run([*args, "--resume", busy_id], tmp_path, env=slow.env())
            assert r.returncode == 2
            assert f"run {busy_id} is still going in another process" in r.stderr
            # A second run over the same input is not pointed at it.
            second = started_then_interrupted([CLI, *args[:-1], "--output-dir", "second"], tmp_path, slow.env())
            assert busy_id not in second
            second_id = re.search(r"to complete this run: --resume (run_\S+)", second).group(1)
        finally:
            busy.kill()
            busy.wait(timeout=10)
        # A run whose process is gone (the interrupted second one, the newest) is worth continuing.
        third = started_then_interrupted([CLI, *args[:-1], "--output-dir", "third"], tmp_path, slow.env())
        assert f"add --resume {second_id} to continue it" in third
    finally:
        slow.close()


def started_then_interrupted(argv, cwd, env):
    """Starts an enrich, interrupts it once it says it is enriching, and returns its stderr."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("enriching "):
            break
    proc.send_signal(signal.SIGINT)
    lines.append(rest_of_stderr(proc))
    return "".join(lines)


def rest_of_stderr(proc, timeout=30):
    """What is left on a process's stderr once it ends. (communicate() with a timeout reads the
    pipe itself and would miss what the line iterator has already buffered.)"""
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        rest = proc.stderr.read()
    finally:
        killer.cancel()
    proc.wait(timeout=10)
    return rest


def signal_statuses(path):
    return {json.loads(line)["lead"]["lead_id"]: {s: v["status"] for s, v in json.loads(line)["signals"].items()}
            for line in path.read_text().splitlines()}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_writes_what_it_finished_and_resumes_to_the_uninterrupted_result(tmp_path, sig):
    flags = ("--latency-ms", "300", "--leads-per-campaign", "120")
    reference, s = ExternalSandbox(*flags), ExternalSandbox(*flags)
    try:
        ids = leads_file(s, tmp_path, 120)
        args = ["enrich", "-i", "leads.jsonl", "--store", "store.db", "--format", "jsonl", "--concurrency", "18",
                "-q"]
        (tmp_path / "ref").mkdir()
        (tmp_path / "ref" / "leads.jsonl").write_text((tmp_path / "leads.jsonl").read_text())
        full = run(args, tmp_path / "ref", env=reference.env())
        assert full.returncode in (0, 1), full.stderr
        expected = signal_statuses(tmp_path / "ref" / "output" / "enriched_leads.jsonl")
        assert list(expected) == ids

        proc = subprocess.Popen([CLI, *args], cwd=tmp_path, env=s.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        proc.send_signal(sig)
        stderr = proc.communicate(timeout=30)[1]
        assert proc.returncode == 1, stderr
        assert "interrupted: the output holds the" in stderr
        run_id = re.search(r"--resume (run_\S+)", stderr).group(1)
        assert runs_of(tmp_path)[0][:2] == [run_id, "cancelled"]
        # What an interrupted run writes is finished work: each lead as the uninterrupted run has it.
        partial = signal_statuses(tmp_path / "output" / "enriched_leads.jsonl")
        assert 0 < len(partial) < len(ids)
        assert [i for i in ids if i in partial] == list(partial)
        assert all(partial[i] == expected[i] for i in partial)

        # A dry run of the resume counts only what is left, and spends nothing.
        records = s.counters()["records"]
        plan = run([*args, "--resume", run_id, "--dry-run"], tmp_path, env=s.env())
        assert plan.returncode == 0, plan.stderr
        assert f"  leads {len(ids) - len(partial)}   bad rows 0" in plan.stderr
        assert s.counters()["records"] == records

        resumed = run([*args, "--resume", run_id], tmp_path, env=s.env())
        assert resumed.returncode in (0, 1), resumed.stderr
        assert signal_statuses(tmp_path / "output" / "enriched_leads.jsonl") == expected
        assert runs_of(tmp_path)[0][:3] == [run_id, "finished", f"{len(ids)} leads"]
    finally:
        reference.close()
        s.close()


def test_sigint_during_a_429_backoff_exits_promptly(tmp_path):
    limited = ExternalSandbox("--fail-429", "1.0")
    try:
        (tmp_path / "leads.jsonl").write_text(
            "".join(json.dumps({"lead_id": f"l{i}", "website": f"co{i}.com"}) + "\n" for i in range(5)))
        proc = subprocess.Popen([CLI, "enrich", "-i", "leads.jsonl", "--no-cache", "--format", "json", "-q"],
                                cwd=tmp_path, env=limited.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        assert wait_for(lambda: sum(v for k, v in limited.counters()["requests"].items()
                                    if k.startswith("pipe0")) >= 2)  # answered 429 at least once: backing off
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            stderr = proc.communicate(timeout=10)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("the CLI did not stop within 10 s of SIGINT")
        assert time.monotonic() - sent < 2.0
        assert proc.returncode == 1, stderr
    finally:
        limited.close()


@pytest.fixture
def tiny_disk(tmp_path):
    """Mounts a tmpfs of the given size (root only) and returns its path; unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = []

    def mount(size):
        mnt = tmp_path / "disk"
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)]).returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(mnt)
        return mnt

    yield mount
    for mnt in mounted:
        subprocess.run(["umount", str(mnt)])


def test_a_full_disk_under_the_store_is_one_error_and_exit_4(tmp_path, sandbox, tiny_disk):
    leads_file(sandbox, tmp_path, 60)
    disk = tiny_disk("400k")  # room to open the store and begin the run, not for the whole run
    r = run(["enrich", "-i", "leads.jsonl", "--store", str(disk / "store.db"), "--format", "json"], tmp_path,
            env=sandbox.env())
    assert r.returncode == 4, r.stderr
    assert len(errors(r.stderr)) == 1, r.stderr
    # The first store write to fail names the store: the journal's, or (an answer that could not
    # be stored) the release of its lookup lease.
    assert re.match(rf"error: (leads\.jsonl: )?store {re.escape(str(disk / 'store.db'))}: "
                    r"(record leads in the journal|release a lookup lease): database or disk is full",
                    errors(r.stderr)[0]), r.stderr
    assert "warning: the journal could not record" not in r.stderr


def test_a_full_disk_under_the_output_says_why_once_and_leaves_nothing(tmp_path, tiny_disk):
    disk = tiny_disk("100k")  # the 60 sandbox leads take about 150 KB as JSON
    r = run(["enrich", "--sandbox", "--no-cache", "--format", "json", "--output-dir", str(disk / "out")], tmp_path)
    assert r.returncode == 1, r.stderr
    assert errors(r.stderr) == [f"error: {disk / 'out' / 'enriched_leads.json'}: No space left on device"]
    assert list((disk / "out").iterdir()) == []


def test_a_signal_before_enriching_starts_ends_the_process_at_once(tmp_path):
    fifo = tmp_path / "nobody-reads.fifo"
    os.mkfifo(fifo)  # opening it for writing waits for a reader that never comes
    proc = subprocess.Popen([CLI, "enrich", "--sandbox", "--format", "jsonl", "-o", str(fifo)], cwd=tmp_path,
                            env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr.readline().startswith("sandbox: serving")
    proc.send_signal(signal.SIGINT)
    stderr = rest_of_stderr(proc)
    assert proc.returncode == 1, stderr
    assert errors(stderr) == ["error: SIGINT: stopped"]
