"""A PostgreSQL store as a user meets it (scripts/with_postgres.sh sets LEADENRICH_TEST_POSTGRES;
ctest runs cli_test under it): a second run pays nothing, `runs` lists the run, and a bad URI is
one line that never shows the password."""
import os
import subprocess
import uuid

import pytest

from test_cli import ExternalSandbox, clean_env, run
from test_store import leads_file, total


def new_database():
    """The URI of a new, empty database on the test server; fails (never skips) without one."""
    server = os.environ.get("LEADENRICH_TEST_POSTGRES")
    assert server, "LEADENRICH_TEST_POSTGRES is not set: run under scripts/with_postgres.sh (ctest does)"
    db = "leadenrich_cli_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", server, "-q", "-c", f"CREATE DATABASE {db}"], check=True, capture_output=True)
    base, _, _ = server.rpartition("/")
    return f"{base}/{db}"


@pytest.fixture
def pg_uri():
    uri = new_database()
    yield uri
    server = os.environ["LEADENRICH_TEST_POSTGRES"]
    subprocess.run(["psql", server, "-q", "-c", f"DROP DATABASE IF EXISTS {uri.rpartition('/')[2]} WITH (FORCE)"],
                   capture_output=True)


def test_a_second_run_on_postgresql_bills_nothing_and_runs_lists_it(tmp_path, pg_uri):
    s = ExternalSandbox()
    try:
        leads_file(s, tmp_path, 30)
        args = ["enrich", "-i", "leads.jsonl", "--store", pg_uri, "--format", "json"]
        first = run(args, tmp_path, env=s.env())
        assert first.returncode in (0, 1), first.stderr
        after_first = s.counters()
        assert total(after_first, "billed") > 0
        # The second run names the store through LEADENRICH_STORE instead of --store.
        second = run(args[:3] + args[5:], tmp_path, env=s.env(LEADENRICH_STORE=pg_uri))
        assert second.returncode in (0, 1), second.stderr
        assert total(s.counters(), "billed") == total(after_first, "billed")
        assert "billed             0 lookups" in second.stderr
        # Nothing went to a SQLite file instead.
        assert not (tmp_path / ".leadenrich").exists()
    finally:
        s.close()
    runs = run(["runs", "--store", pg_uri], tmp_path)
    assert runs.returncode == 0, runs.stderr
    assert run(["runs"], tmp_path, env=clean_env(LEADENRICH_STORE=pg_uri)).stdout == runs.stdout
    lines = runs.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("run_") and "\tfinished\t30 leads\t" in line for line in lines)


def test_an_unreachable_postgresql_store_is_one_line_without_the_password(tmp_path):
    r = run(["runs", "--store", "postgresql://u:secret@127.0.0.1:1/x"], tmp_path, env=clean_env())
    assert r.returncode == 4, r.stderr
    assert "secret" not in r.stderr + r.stdout
    assert "postgresql://u:***@127.0.0.1:1/x" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
