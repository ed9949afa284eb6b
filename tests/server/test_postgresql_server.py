"""Server replicas sharing one PostgreSQL store (ctest runs server_test under
scripts/with_postgres.sh, which sets LEADENRICH_TEST_POSTGRES)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from test_cli import ExternalSandbox  # noqa: E402
from test_postgresql import pg_uri  # noqa: E402,F401 (the fixture: a new database, dropped after)
from test_server import KEY, Server  # noqa: E402


def test_two_replicas_share_results_and_the_cache(tmp_path, pg_uri):
    sandbox = ExternalSandbox()
    a = b = None
    try:
        env = sandbox.env(LEADENRICH_API_KEYS=KEY)
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a = Server(tmp_path / "a", env=env, store=pg_uri)
        b = Server(tmp_path / "b", env=env, store=pg_uri)
        assert f"store {pg_uri}, jobs .leadenrich/server.jobs" in a.log()
        _, page = a.json("GET", "/v1/campaigns/cmp_0001/leads?per_page=10")
        lead_id = next(e["lead"]["lead_id"] for e in page["leads"] if e["lead"]["website"])
        status, enriched = a.json("POST", f"/v1/leads/{lead_id}/enrich")
        assert status == 200 and enriched["billed_lookups"] > 0
        # The other replica reads the stored result and answers from the shared cache.
        status, _, stored = b.request("GET", f"/v1/leads/{lead_id}/enrichment")
        assert status == 200 and json.loads(stored) == enriched
        status, again = b.json("POST", f"/v1/leads/{lead_id}/enrich")
        assert status == 200 and again["billed_lookups"] == 0
        assert not (tmp_path / "a" / ".leadenrich" / "store.db").exists()
    finally:
        for s in (a, b):
            if s:
                s.close()
        sandbox.close()


def test_an_unreachable_store_stops_the_server_with_one_line_without_the_password(tmp_path):
    sandbox = ExternalSandbox()
    try:
        s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY), expect_start=False,
                   store="postgresql://u:secret@127.0.0.1:1/x")
        code = s.proc.wait(timeout=20)
        s.reader.join(timeout=5)
        assert code != 0
        assert "secret" not in s.log()
        assert "postgresql://u:***@127.0.0.1:1/x" in s.log()
    finally:
        sandbox.close()
