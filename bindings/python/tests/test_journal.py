"""Journaled runs from Python: interrupted with Ctrl-C, the same call continues the run."""
import pytest

import leadenrich

LEADS = [{"lead_id": f"j{i}", "email": f"p{i}@journalco{i % 15}.com", "linkedin_url": f"linkedin.com/in/p{i}"}
         for i in range(45)]


def statuses(leads):
    return [(l.lead.lead_id, {s: r["status"] for s, r in l.results.items()}) for l in leads]


def test_an_interrupted_journaled_enrich_resumes_to_the_uninterrupted_result(tmp_path):
    with leadenrich.Sandbox(latency_ms=300) as reference:
        expected = statuses(leadenrich.Enricher(reference.config).enrich(LEADS))

    with leadenrich.Sandbox(latency_ms=300) as sandbox:
        enricher = leadenrich.Enricher(sandbox.config, store=str(tmp_path / "store.db"))

        def ctrl_c_while_lookups_are_in_flight(p):
            if p["requests"] > 0 and p["leads_done"] == 0:
                raise KeyboardInterrupt  # what Ctrl-C raises from the binding's signal check

        with pytest.raises(KeyboardInterrupt):
            enricher.enrich(LEADS, progress=ctrl_c_while_lookups_are_in_flight, journal=True)
        interrupted = enricher.last_run_id
        assert interrupted and interrupted.startswith("run_")

        # The same call again continues that run (matched by the leads' content) and gives what an
        # uninterrupted run gives: cancelled lookups were not kept as results.
        out = enricher.enrich(LEADS, journal=True)
        assert enricher.last_run_id == interrupted
        assert statuses(out) == expected

        # Finished now: a third call starts a new run, answered from the cache.
        billed = sum(sandbox.counters()["billed"].values())
        again = enricher.enrich(LEADS, journal=True)
        assert enricher.last_run_id != interrupted
        assert statuses(again) == expected
        assert sum(sandbox.counters()["billed"].values()) == billed


def test_resume_by_id_needs_the_same_leads_and_a_store(tmp_path):
    with leadenrich.Sandbox() as sandbox:
        enricher = leadenrich.Enricher(sandbox.config, store=str(tmp_path / "store.db"))
        enricher.enrich(LEADS[:3], journal=True)
        run_id = enricher.last_run_id
        assert [l.lead.lead_id for l in enricher.enrich(LEADS[:3], resume=run_id)] == ["j0", "j1", "j2"]
        with pytest.raises(leadenrich.InvalidInputError, match="not over this input"):
            enricher.enrich(LEADS[:4], resume=run_id)
        with pytest.raises(leadenrich.NotFoundError):
            enricher.enrich(LEADS[:3], resume="run_nope")
        with pytest.raises(leadenrich.InvalidInputError, match="duplicate lead_id 'j0'"):
            enricher.enrich([LEADS[0], LEADS[0]], journal=True)
        with pytest.raises(leadenrich.ConfigurationError, match="needs a store"):
            leadenrich.Enricher(sandbox.config).enrich(LEADS[:1], journal=True)
