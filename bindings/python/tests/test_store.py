"""Stores by name from Python: a SQLite path or a PostgreSQL URI (ctest runs python_test under
scripts/with_postgres.sh, which sets LEADENRICH_TEST_POSTGRES)."""
import os
import subprocess
import uuid

import pytest

import leadenrich

LEADS = [{"lead_id": f"s{i}", "email": f"p{i}@storeco{i % 5}.com"} for i in range(10)]


@pytest.fixture
def pg_uri():
    server = os.environ.get("LEADENRICH_TEST_POSTGRES")
    assert server, "LEADENRICH_TEST_POSTGRES is not set: run under scripts/with_postgres.sh (ctest does)"
    db = "leadenrich_py_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", server, "-q", "-c", f"CREATE DATABASE {db}"], check=True, capture_output=True)
    base, _, _ = server.rpartition("/")
    yield f"{base}/{db}"
    subprocess.run(["psql", server, "-q", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], capture_output=True)


def test_an_enricher_on_a_postgresql_store_caches_and_journals_there(pg_uri):
    with leadenrich.Sandbox() as sandbox:
        enricher = leadenrich.Enricher(sandbox.config, store=pg_uri)
        first = enricher.enrich(LEADS, journal=True)
        billed = sum(sandbox.counters()["billed"].values())
        assert billed > 0
        again = leadenrich.Enricher(sandbox.config, store=pg_uri).enrich(LEADS)
        assert sum(sandbox.counters()["billed"].values()) == billed
        assert [l.lead.lead_id for l in again] == [l.lead.lead_id for l in first]
    store = leadenrich.open_store(pg_uri)
    assert store.name == pg_uri
    assert sum(store.cache_stats().values()) > 0
    runs = store.runs()
    assert [r["id"] for r in runs] == [enricher.last_run_id]
    assert runs[0]["state"] == "finished" and runs[0]["leads_done"] == len(LEADS)


def test_a_sqlite_path_still_opens_a_file(tmp_path):
    store = leadenrich.open_store(str(tmp_path / "store.db"))
    assert store.name == str(tmp_path / "store.db")
    assert store.runs() == []
    assert (tmp_path / "store.db").exists()


def test_an_unreachable_server_raises_a_store_error_without_the_password():
    with pytest.raises(leadenrich.StoreError) as err:
        leadenrich.open_store("postgresql://u:secret@127.0.0.1:1/x")
    assert "secret" not in str(err.value)
    assert "postgresql://u:***@127.0.0.1:1/x" in str(err.value)
    with pytest.raises(leadenrich.StoreError) as err:
        leadenrich.Enricher(leadenrich.Config(), store="postgresql://u:secret@127.0.0.1:1/x")
    assert "secret" not in str(err.value)
