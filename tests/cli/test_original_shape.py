"""`leadenrich enrich --shape original`: the original pipeline's EnrichedLead in JSON, JSON lines and
CSV, for pipelines that read the original's files (docs/output.md, "The original's shape")."""
import csv
import json
import re

from test_cli import read_json, run

ORIGINAL_KEYS = ["lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "campaign_id",
                 "campaign_name", "company_overview", "tech_stack", "funding", "linkedin_posts", "enrichment_metadata"]
ORIGINAL_CSV = ["lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "campaign_id",
                "campaign_name", "company_description", "industry", "headcount", "founded_year", "region",
                "estimated_revenue", "tech_stack", "total_funding_usd", "funding_history", "news_summary",
                "linkedin_posts", "enriched_at", "signals_found", "signals_missed", "pipe0_run_id"]


def test_original_shape_json_and_csv_hold_the_same_leads_as_leadenrichs(tmp_path):
    store = str(tmp_path / "store.db")
    r = run(["enrich", "--sandbox", "--limit", "12", "--store", store, "--output-dir", "own"], tmp_path)
    assert r.returncode in (0, 1), r.stderr
    own = read_json(tmp_path / "own" / "enriched_leads.json")
    r = run(["enrich", "--sandbox", "--limit", "12", "--store", store, "--shape", "original", "--output-dir", "orig"],
            tmp_path)
    assert r.returncode in (0, 1), r.stderr
    leads = read_json(tmp_path / "orig" / "enriched_leads.json")
    assert [lead["lead_id"] for lead in leads] == [lead["lead"]["lead_id"] for lead in own]
    for lead, mine in zip(leads, own):
        assert list(lead) == ORIGINAL_KEYS
        assert lead["name"] == mine["lead"]["name"] and lead["campaign_id"] == mine["lead"]["campaign_id"]
        assert lead["enrichment_metadata"]["signals_found"] == mine["signals_found"]
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$", lead["enrichment_metadata"]["enriched_at"])
        if lead["company_overview"] is not None:
            assert all(v is None or isinstance(v, str) for v in lead["company_overview"].values())
        if lead["tech_stack"] is not None:
            assert all(isinstance(t, str) for t in lead["tech_stack"])
    with open(tmp_path / "orig" / "enriched_leads.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ORIGINAL_CSV
    assert [row["lead_id"] for row in rows] == [lead["lead_id"] for lead in leads]
    for row, lead in zip(rows, leads):
        assert row["tech_stack"] == "; ".join(lead["tech_stack"] or [])
        assert json.loads(row["linkedin_posts"] or "null") == lead["linkedin_posts"]
        assert row["enriched_at"] == lead["enrichment_metadata"]["enriched_at"]


def test_original_shape_streams_to_stdout_and_bad_shapes_are_refused(tmp_path):
    r = run(["enrich", "--sandbox", "--limit", "3", "--shape", "original", "-o", "-"], tmp_path)
    assert r.returncode in (0, 1), r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 3 and all(list(lead) == ORIGINAL_KEYS for lead in lines)
    r = run(["enrich", "--sandbox", "--shape", "fastapi"], tmp_path)
    assert r.returncode == 2 and "--shape" in r.stderr
