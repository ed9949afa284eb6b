"""The Python package against the in-process sandbox."""
import asyncio
import os
import re
import threading
import time
import _thread

import pytest

import leadenrich


@pytest.fixture(scope="module")
def sandbox():
    with leadenrich.Sandbox() as s:
        yield s


def test_raw_lead_dict_round_trip_keeps_unknown_keys():
    d = {"lead_id": "l1", "name": "Zoë", "email": "zoe@globex.io", "apollo_score": 91, "tags": ["a", {"b": None}]}
    lead = leadenrich.RawLead.from_dict(d)
    assert lead.name == "Zoë"
    assert lead.website is None
    out = lead.to_dict()
    assert out["apollo_score"] == 91 and out["tags"] == ["a", {"b": None}]
    assert leadenrich.RawLead.from_dict(out) == lead
    assert leadenrich.RawLead("l2", email="x@y.com").email == "x@y.com"
    assert "RawLead(lead_id='l1'" in repr(lead)


def test_enrich_one_gives_typed_signals_and_a_dict_that_round_trips(sandbox):
    enricher = leadenrich.Enricher(sandbox.config)
    lead = enricher.enrich_one({"lead_id": "1", "email": "jane@acme.com", "linkedin_url": "linkedin.com/in/jane-doe"})
    assert lead.company_key == "acme.com"
    assert lead.person_key == "https://www.linkedin.com/in/jane-doe"
    assert set(lead.results) == {"company_overview", "tech_stack", "funding", "news", "linkedin_posts"}
    for name in lead.signals_found:
        assert lead.results[name]["status"] == "found"
        assert getattr(lead, name) is not None
    assert 0 <= lead.quality_score <= 100
    d = lead.to_dict()
    assert leadenrich.EnrichedLead.from_dict(d).to_dict() == d
    assert lead.to_json().startswith('{"lead":')
    assert re.match(r"EnrichedLead\(lead_id='1', quality_score=\d+", repr(lead))


def test_every_signal_is_a_property_holding_its_value_from_the_dict(sandbox):
    lead = leadenrich.Enricher(sandbox.config).enrich_one(
        {"lead_id": "p1", "website": "https://globex.io", "linkedin_url": "linkedin.com/in/hank-scorpio"})
    signals = lead.to_dict()["signals"]
    assert list(signals) == ["company_overview", "tech_stack", "funding", "news", "linkedin_posts"]
    for name, entry in signals.items():
        assert getattr(lead, name) == entry["value"]
    assert any(entry["value"] is not None for entry in signals.values())


def test_enrich_a_list_or_any_iterable_with_progress(sandbox):
    enricher = leadenrich.Enricher(sandbox.config)
    seen = []
    leads = ({"lead_id": str(i), "email": f"p{i}@company{i % 3}.com"} for i in range(12))
    out = enricher.enrich(leads, progress=seen.append)
    assert [l.lead.lead_id for l in out] == [str(i) for i in range(12)]
    assert seen and seen[-1]["leads_done"] == 12
    plan = enricher.plan([{"lead_id": "a", "email": "x@acme.com"}, {"lead_id": "b", "email": "y@acme.com"}])
    assert plan["companies"] == 1 and plan["lookups"]["news"] == 1


def test_an_exception_in_the_progress_callback_propagates(sandbox):
    enricher = leadenrich.Enricher(sandbox.config)

    def boom(_):
        raise ValueError("stop here")

    with pytest.raises(ValueError, match="stop here"):
        enricher.enrich([{"lead_id": "1", "email": "a@b.com"}], progress=boom)


def test_ctrl_c_cancels_a_running_enrich_cleanly():
    with leadenrich.Sandbox(latency_ms=3000) as slow:
        enricher = leadenrich.Enricher(slow.config)
        threading.Timer(0.5, _thread.interrupt_main).start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            enricher.enrich([{"lead_id": str(i), "email": f"a@c{i}.com"} for i in range(5)])
        assert time.monotonic() - start < 2.5  # did not wait for the 3 s runs


def test_concurrent_enrich_one_from_threads(sandbox):
    enricher = leadenrich.Enricher(sandbox.config)
    results, errors = {}, []

    def work(i):
        try:
            results[i] = enricher.enrich_one({"lead_id": f"t{i}", "email": f"t{i}@co{i}.com"})
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(results) == list(range(8))
    assert all(results[i].company_key == f"co{i}.com" for i in range(8))


def test_enrich_one_async_for_asyncio_agents(sandbox):
    enricher = leadenrich.Enricher(sandbox.config)

    async def main():
        return await asyncio.gather(*(enricher.enrich_one_async({"lead_id": str(i), "email": f"x@a{i}.io"}) for i in range(3)))

    out = asyncio.run(main())
    assert [l.company_key for l in out] == ["a0.io", "a1.io", "a2.io"]


def test_errors_are_typed_with_status_and_provider(sandbox):
    with pytest.raises(leadenrich.ConfigurationError, match="PIPE0_API_KEY"):
        leadenrich.Enricher(leadenrich.Config())
    with pytest.raises(leadenrich.InvalidInputError, match="lead_id"):
        leadenrich.RawLead.from_dict({"name": "no id"})
    with pytest.raises(leadenrich.InvalidInputError):
        leadenrich.Config(pipe0_environment="staging")
    with leadenrich.Sandbox(require_key="right") as locked:
        cfg = locked.config
        bad = leadenrich.Config(aturiya_base_url=cfg.aturiya_base_url, aturiya_bearer_token="wrong",
                                aturiya_user_id=cfg.aturiya_user_id, aturiya_agent_id=cfg.aturiya_agent_id)
        with pytest.raises(leadenrich.AuthenticationError) as e:
            leadenrich.AturiyaClient(bad).campaigns()
        assert e.value.http_status == 401 and e.value.provider == "aturiya"
        assert "wrong" not in str(e.value)
    with pytest.raises(leadenrich.NotFoundError) as nf:
        leadenrich.AturiyaClient(sandbox.config).lead("lead_missing")
    assert nf.value.http_status == 404
    dead = leadenrich.Config(aturiya_base_url="http://127.0.0.1:9", aturiya_bearer_token="t",
                             aturiya_user_id="u", aturiya_agent_id="a")
    with pytest.raises(leadenrich.UnavailableError):
        leadenrich.AturiyaClient(dead).campaigns()
    assert issubclass(leadenrich.RateLimitError, leadenrich.Error)
    err = leadenrich._errors.from_status("resource_exhausted", "slow down", 429, "pipe0", 3.0)
    assert isinstance(err, leadenrich.RateLimitError) and err.retry_after == 3.0


def test_aturiya_client_lists_campaigns_and_leads_with_a_limit(sandbox):
    client = leadenrich.AturiyaClient(sandbox.config)
    campaigns = client.campaigns()
    assert campaigns[0]["id"] == "cmp_0001" and "icp_summary" in campaigns[0]
    leads = client.leads("cmp_0001", limit=7)
    assert len(leads) == 7 and all(isinstance(l, leadenrich.RawLead) for l in leads)
    assert client.lead(leads[3].lead_id) == leads[3]


def test_a_store_makes_the_second_enrichment_free(tmp_path, sandbox):
    enricher = leadenrich.Enricher(sandbox.config, store=str(tmp_path / "store.db"))
    lead = {"lead_id": "s1", "email": "s@storeco.com"}
    enricher.enrich_one(lead)
    billed = sum(sandbox.counters()["billed"].values())
    again = enricher.enrich_one(lead)
    assert sum(sandbox.counters()["billed"].values()) == billed
    assert all(r["from_cache"] for r in again.results.values() if r["status"] in ("found", "no_result"))


def test_config_repr_never_shows_secrets():
    c = leadenrich.Config(pipe0_api_key="p0_SECRET", aturiya_bearer_token="atr_SECRET")
    assert "SECRET" not in repr(c) + str(c)
    assert c.has_pipe0_api_key


def test_the_readme_python_example_runs_as_written():
    readme = open(os.path.join(os.environ["LEADENRICH_SOURCE_DIR"], "README.md"), encoding="utf-8").read()
    block = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(block, "README.md", "exec"), {})
