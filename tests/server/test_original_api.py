"""The original pipeline's four routes, as shared/contracts/original-api.md describes them: every
field and type that its frontend and agents read, against leadenrich-server --sandbox over loopback
(and a separate sandbox for the upstream failures)."""
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from test_cli import ExternalSandbox, SECRET, clean_env  # noqa: E402
from test_server import KEY, Server, closed_port  # noqa: E402

RAW_LEAD_FIELDS = ["lead_id", "agent_id", "campaign_id", "task_id", "task_status", "campaign_name", "name", "email",
                   "phone", "organization", "designation", "linkedin_url", "website", "status", "type", "created_at"]
REQUIRED = {"lead_id", "agent_id", "campaign_id", "name"}
ENRICHED_KEYS = ["lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "campaign_id",
                 "campaign_name", "company_overview", "tech_stack", "funding", "linkedin_posts", "enrichment_metadata"]
OVERVIEW_KEYS = {"description", "industry", "headcount", "founded_year", "region", "estimated_revenue"}
SIGNALS = {"company_overview", "tech_stack", "funding", "news", "linkedin_posts"}
# Python's datetime.isoformat() of a naive UTC time, as the original wrote it.
ENRICHED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """leadenrich-server --sandbox with no keys: the drop-in as a newcomer runs it."""
    s = Server(tmp_path_factory.mktemp("orig"), "--sandbox", env=clean_env())
    yield s
    s.close()


def call(server, method, path, body=None, **kw):
    status, headers, text = server.request(method, path, body=body, key=None, **kw)
    return status, headers, (json.loads(text) if text else None)


def v1_leads(server, campaign_id):
    """Every lead of a campaign through leadenrich's own paged route."""
    out, page = [], 1
    while True:
        _, _, body = call(server, "GET", f"/v1/campaigns/{campaign_id}/leads?page={page}&per_page=200")
        out += [item["lead"] for item in body["leads"]]
        if not body["has_next"]:
            return out
        page += 1


def is_str_or_none(v):
    return v is None or isinstance(v, str)


def check_enriched_lead(e, sent):
    """Every field and type of the original EnrichedLead."""
    assert list(e) == ENRICHED_KEYS
    for key in ["lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "campaign_id",
                "campaign_name"]:
        assert e[key] == sent.get(key), key
    assert isinstance(e["lead_id"], str)
    if e["company_overview"] is not None:
        assert set(e["company_overview"]) == OVERVIEW_KEYS
        for key, value in e["company_overview"].items():
            assert is_str_or_none(value), (key, value)  # the frontend renders them as text: 120 is "120"
    if e["tech_stack"] is not None:
        assert isinstance(e["tech_stack"], list) and all(isinstance(t, str) for t in e["tech_stack"])
    if e["funding"] is not None:
        f = e["funding"]
        assert set(f) == {"total_funding_usd", "funding_history", "news_summary"}
        assert f["total_funding_usd"] is None or (isinstance(f["total_funding_usd"], int)
                                                  and not isinstance(f["total_funding_usd"], bool))
        assert f["funding_history"] is None or isinstance(f["funding_history"], list)
        assert is_str_or_none(f["news_summary"])
    if e["linkedin_posts"] is not None:
        assert isinstance(e["linkedin_posts"], list) and len(e["linkedin_posts"]) <= 5
        assert all(isinstance(p, str) for p in e["linkedin_posts"])
    m = e["enrichment_metadata"]
    assert list(m) == ["enriched_at", "signals_found", "signals_missed", "pipe0_run_id"]
    assert ENRICHED_AT.match(m["enriched_at"]), m["enriched_at"]
    for key in ["signals_found", "signals_missed"]:
        assert isinstance(m[key], list) and set(m[key]) <= SIGNALS, m[key]
    assert is_str_or_none(m["pipe0_run_id"])


def test_health_says_ok(demo):
    status, _, body = call(demo, "GET", "/api/health")
    assert status == 200 and body["status"] == "ok"


def test_campaigns_are_a_plain_list_of_aturiyas_campaigns(demo):
    status, headers, body = call(demo, "GET", "/api/campaigns")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert isinstance(body, list) and len(body) == 3
    for c in body:
        assert isinstance(c["id"], str) and isinstance(c["name"], str)
    # Exactly what Aturiya's data array holds (the same the /v1 route wraps in {"campaigns"}).
    assert body == call(demo, "GET", "/v1/campaigns")[2]["campaigns"]


def test_campaign_leads_are_every_raw_lead_of_all_pages_in_one_list(demo):
    status, _, body = call(demo, "GET", "/api/campaigns/cmp_0002/leads")
    assert status == 200 and isinstance(body, list)
    every = v1_leads(demo, "cmp_0002")
    assert len(every) > 50  # more than one of the original's pages of 50
    assert [lead["lead_id"] for lead in body] == [lead["lead_id"] for lead in every]
    assert len({lead["lead_id"] for lead in body}) == len(body)
    for raw, lead in zip(every, body):
        assert list(lead) == RAW_LEAD_FIELDS  # the original's field names, no others
        for key in RAW_LEAD_FIELDS:
            assert lead[key] == raw[key]
            if key in REQUIRED:
                assert isinstance(lead[key], str), (key, lead)
            else:
                assert is_str_or_none(lead[key]), (key, lead)


def test_enrich_returns_the_original_enriched_lead(demo):
    _, _, leads = call(demo, "GET", "/api/campaigns/cmp_0001/leads")
    seen = {"company_overview": 0, "tech_stack": 0, "funding": 0, "news_summary": 0, "linkedin_posts": 0}
    for lead in leads[:20]:
        # The frontend posts the row's RawLead with the same id in the path.
        status, headers, e = call(demo, "POST", f"/api/leads/{lead['lead_id']}/enrich", body=lead)
        assert status == 200 and headers["Content-Type"].startswith("application/json"), e
        check_enriched_lead(e, lead)
        for key in ["website", "agent_id", "task_id", "task_status", "status", "type", "created_at"]:
            assert key not in e  # not echoed
        seen["company_overview"] += e["company_overview"] is not None
        seen["tech_stack"] += e["tech_stack"] is not None
        seen["funding"] += e["funding"] is not None and e["funding"]["total_funding_usd"] is not None
        seen["news_summary"] += e["funding"] is not None and e["funding"]["news_summary"] is not None
        seen["linkedin_posts"] += bool(e["linkedin_posts"])
        # The same values as leadenrich's own result, which is stored for /v1 too.
        status, _, stored = call(demo, "GET", f"/v1/leads/{lead['lead_id']}/enrichment")
        assert status == 200
        assert e["enrichment_metadata"]["signals_found"] == stored["signals_found"]
        assert e["enrichment_metadata"]["signals_missed"] == stored["signals_missed"]
        assert e["enrichment_metadata"]["enriched_at"][:23] == stored["enriched_at"][:23]
        assert e["enrichment_metadata"]["pipe0_run_id"] == (stored["provider_run_ids"] or [None])[0]
        overview = stored["signals"]["company_overview"]["value"]
        if overview is not None:
            assert e["company_overview"]["description"] == overview["description"]
            assert e["company_overview"]["headcount"] == (None if overview["headcount"] is None else str(overview["headcount"]))
        tech = stored["signals"]["tech_stack"]["value"]
        assert e["tech_stack"] == (None if tech is None else [t["name"] for t in tech["technologies"]])
        posts = stored["signals"]["linkedin_posts"]["value"]
        assert e["linkedin_posts"] == (None if posts is None else [p["text"] for p in posts["posts"]][:5])
        funding = stored["signals"]["funding"]["value"]
        if funding is not None and funding["total_usd"] is not None:
            assert e["funding"]["total_funding_usd"] == round(funding["total_usd"])
            assert e["funding"]["funding_history"] == funding["rounds"]
        news = stored["signals"]["news"]["value"]
        assert (e["funding"] or {}).get("news_summary") == (None if news is None else news["summary"])
    # Every optional part was there at least once, so its types were checked above.
    assert all(n > 0 for n in seen.values()), seen


def test_enrich_of_a_lead_with_nothing_to_look_up_still_has_its_metadata(demo):
    lead = {"lead_id": "bare-1", "agent_id": "a", "campaign_id": "c", "name": "Nobody", "email": None}
    status, _, e = call(demo, "POST", "/api/leads/bare-1/enrich", body=lead)
    assert status == 200
    check_enriched_lead(e, lead)
    assert e["company_overview"] is None and e["tech_stack"] is None and e["funding"] is None
    assert e["linkedin_posts"] is None
    assert e["enrichment_metadata"]["signals_found"] == []


def test_enrich_ignores_unknown_keys_and_the_paths_id(demo):
    lead = {"lead_id": "extra-1", "agent_id": "a", "campaign_id": "c", "name": "Extra", "website": "extra.example",
            "favourite_colour": "teal"}
    # The original used the body, not the path: a different id in the path changes nothing.
    status, _, e = call(demo, "POST", "/api/leads/whatever/enrich", body=lead)
    assert status == 200 and e["lead_id"] == "extra-1" and "favourite_colour" not in e
    assert call(demo, "GET", "/v1/leads/extra-1/enrichment")[0] == 200


@pytest.mark.parametrize("raw, loc, kind", [
    (b"", ["body"], "missing"),
    (b'{"lead_id": ', ["body"], "json_invalid"),
    (b'["lead_id"]', ["body"], "model_attributes_type"),
    (b'{"lead_id": "x", "agent_id": "a", "campaign_id": "c"}', ["body", "name"], "missing"),
    (b'{"lead_id": 7, "agent_id": "a", "campaign_id": "c", "name": "n"}', ["body", "lead_id"], "string_type"),
    (b'{"lead_id": "x", "agent_id": "a", "campaign_id": "c", "name": null}', ["body", "name"], "string_type"),
    (b'{"lead_id": "x", "agent_id": "a", "campaign_id": "c", "name": "n", "email": ["a@b.c"]}', ["body", "email"],
     "string_type"),
])
def test_bad_bodies_are_422_as_fastapi_writes_them(demo, raw, loc, kind):
    status, _, body = call(demo, "POST", "/api/leads/x/enrich", raw=raw)
    assert status == 422, body
    assert list(body) == ["detail"] and isinstance(body["detail"], list) and body["detail"]
    for item in body["detail"]:
        assert list(item) == ["loc", "msg", "type"]
        assert isinstance(item["msg"], str) and item["msg"] and isinstance(item["type"], str)
        assert item["loc"][0] == "body"
    assert {"loc": loc, "type": kind} in [{"loc": i["loc"], "type": i["type"]} for i in body["detail"]]


def test_every_missing_field_is_named(demo):
    status, _, body = call(demo, "POST", "/api/leads/x/enrich", body={"email": "a@b.c"})
    assert status == 422
    assert [(i["loc"], i["type"]) for i in body["detail"]] == [(["body", f], "missing") for f in
                                                              ["lead_id", "agent_id", "campaign_id", "name"]]


def test_unknown_routes_are_404_not_found(demo):
    for method, path in [("GET", "/api/nothing"), ("GET", "/api/leads/x/enrichment"), ("POST", "/api/enrich"),
                         ("GET", "/api/campaigns/cmp_0001")]:
        status, _, body = call(demo, method, path, raw=b"{}" if method == "POST" else None)
        assert (status, body) == (404, {"detail": "Not Found"}), (method, path)
    # A known route with another method, as Starlette answers it.
    for method, path in [("GET", "/api/leads/x/enrich"), ("POST", "/api/campaigns"), ("DELETE", "/api/health")]:
        status, _, body = call(demo, method, path, raw=b"{}" if method == "POST" else None)
        assert (status, body) == (405, {"detail": "Method Not Allowed"}), (method, path)
    # A campaign id that cannot be one never reaches Aturiya's URL; the answer keeps the shape.
    status, _, body = call(demo, "GET", "/api/campaigns/a%2F..%2Fb/leads")
    assert status == 400 and list(body) == ["detail"] and "campaign id" in body["detail"]


def test_upstream_failures_are_502_with_a_detail_and_never_leak_the_keys(tmp_path):
    dead = f"http://127.0.0.1:{closed_port()}"
    env = clean_env(LEADENRICH_API_KEYS=KEY, PIPE0_API_KEY=SECRET, PIPE0_BASE_URL=dead, ATURIYA_BASE_URL=dead,
                    ATURIYA_BEARER_TOKEN=SECRET, ATURIYA_USER_ID="user_1", ATURIYA_AGENT_ID="agent_" + "a" * 32)
    s = Server(tmp_path, "--upstream-timeout-ms", "2000", env=env)
    try:
        for path in ["/api/campaigns", "/api/campaigns/cmp_0001/leads"]:
            status, _, text = s.request("GET", path)
            body = json.loads(text)
            assert status == 502 and list(body) == ["detail"] and "Aturiya" in body["detail"], (path, body)
        lead = {"lead_id": "x-1", "agent_id": "a", "campaign_id": "c", "name": "X", "website": "acme.com"}
        status, _, text = s.request("POST", "/api/leads/x-1/enrich", body=lead)
        body = json.loads(text)
        assert status == 502 and list(body) == ["detail"] and "pipe0" in body["detail"]
        assert SECRET not in text
    finally:
        s.close()
    assert SECRET not in s.log()


def test_a_slow_pipe0_is_504_with_a_detail(tmp_path):
    sandbox = ExternalSandbox("--latency-ms", "3000")
    s = Server(tmp_path, "--upstream-timeout-ms", "300", env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        lead = {"lead_id": "slow-1", "agent_id": "a", "campaign_id": "c", "name": "S", "website": "slow.example"}
        status, _, text = s.request("POST", "/api/leads/slow-1/enrich", body=lead)
        body = json.loads(text)
        assert status == 504 and list(body) == ["detail"] and isinstance(body["detail"], str)
    finally:
        s.close()
        sandbox.close()


def test_with_api_keys_the_original_routes_need_one(tmp_path):
    sandbox = ExternalSandbox()
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        status, headers, text = s.request("GET", "/api/campaigns", key=None)
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
        assert list(json.loads(text)) == ["detail"]
        lead = {"lead_id": "k-1", "agent_id": "a", "campaign_id": "c", "name": "K"}
        assert s.request("POST", "/api/leads/k-1/enrich", body=lead, key=None)[0] == 401
        assert s.request("GET", "/api/campaigns/cmp_0001/leads", key=None)[0] == 401
        assert s.request("GET", "/api/health", key=None)[0] == 200
        status, _, text = s.request("GET", "/api/campaigns")
        assert status == 200 and isinstance(json.loads(text), list)
    finally:
        s.close()
        sandbox.close()


# ---- the original frontend on Vite, its /api proxied here, with no API keys ----

def test_a_vite_proxy_that_keeps_the_host_is_served(demo):
    """Vite's default proxy passes the page's Host (localhost:5173) on; a POST carries the page's
    Origin. Both name the dev server's own origin, so the no-key checks let it through."""
    vite = {"Host": "localhost:5173", "Origin": "http://localhost:5173"}
    assert call(demo, "GET", "/api/campaigns", headers={"Host": "localhost:5173"})[0] == 200
    lead = {"lead_id": "vite-1", "agent_id": "a", "campaign_id": "c", "name": "V"}
    assert call(demo, "POST", "/api/leads/vite-1/enrich", body=lead, headers=vite)[0] == 200


def test_a_vite_proxy_that_changes_the_host_needs_its_origin_allowed(tmp_path):
    """With changeOrigin the proxy sends this server's Host, but the browser's Origin is still the
    dev server's: refused by default (another site looks the same), served once that origin is
    listed in LEADENRICH_CORS_ORIGINS."""
    lead = {"lead_id": "vite-2", "agent_id": "a", "campaign_id": "c", "name": "V"}
    origin = {"Origin": "http://localhost:5173"}
    s = Server(tmp_path, "--sandbox", env=clean_env())
    try:
        status, _, body = call(s, "POST", "/api/leads/vite-2/enrich", body=lead, headers=origin)
        assert status == 403 and "LEADENRICH_CORS_ORIGINS" in body["detail"]
        assert call(s, "POST", "/api/leads/vite-2/enrich", body=lead, headers={"Origin": "http://evil.example"})[0] == 403
    finally:
        s.close()
    s = Server(tmp_path, "--sandbox", env=clean_env(LEADENRICH_CORS_ORIGINS="http://localhost:5173"))
    try:
        assert call(s, "POST", "/api/leads/vite-2/enrich", body=lead, headers=origin)[0] == 200
        assert call(s, "POST", "/api/leads/vite-2/enrich", body=lead, headers={"Origin": "http://evil.example"})[0] == 403
    finally:
        s.close()


def test_metrics_count_the_original_routes_under_their_templates(tmp_path):
    from test_server import metric
    s = Server(tmp_path, "--sandbox", env=clean_env())
    try:
        call(s, "GET", "/api/campaigns")
        call(s, "GET", "/api/campaigns/cmp_0001/leads")
        call(s, "POST", "/api/leads/anything/enrich", raw=b"{}")
        call(s, "GET", "/api/nothing")
        text = s.request("GET", "/metrics", key=None)[2]
        assert metric(text, "leadenrich_http_requests_total", route="/api/campaigns", method="GET", status="200") == 1
        assert metric(text, "leadenrich_http_requests_total", route="/api/campaigns/{campaign_id}/leads", method="GET",
                      status="200") == 1
        assert metric(text, "leadenrich_http_requests_total", route="/api/leads/{lead_id}/enrich", method="POST",
                      status="422") == 1
        assert metric(text, "leadenrich_http_requests_total", route="unmatched", method="GET", status="404") == 1
    finally:
        s.close()


class FakeAturiya:
    """An Aturiya whose campaign has `pages` pages (None: it always says another page follows), each
    with one lead and one item without a lead_id."""

    def __init__(self, pages):
        import http.server
        import threading
        import urllib.parse

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                page = int(query.get("page", ["1"])[0])
                body = {"data": [{"lead_id": f"lead_{page}", "agent_id": "a", "campaign_id": "c", "name": f"L{page}"},
                                 {"name": "no id"}],
                        "pagination": {"page": page, "has_next_page": pages is None or page < pages}}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def env(self):
        return clean_env(LEADENRICH_API_KEYS=KEY, ATURIYA_BASE_URL=self.url, ATURIYA_BEARER_TOKEN=SECRET,
                         ATURIYA_USER_ID="user_1", ATURIYA_AGENT_ID="agent_" + "a" * 32, PIPE0_API_KEY=SECRET)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_leads_without_an_id_are_left_out_and_said_so_in_the_log(tmp_path):
    aturiya = FakeAturiya(pages=3)
    s = Server(tmp_path, env=aturiya.env())
    try:
        status, _, text = s.request("GET", "/api/campaigns/c/leads")
        assert status == 200 and [lead["lead_id"] for lead in json.loads(text)] == ["lead_1", "lead_2", "lead_3"]
    finally:
        s.close()
        aturiya.close()
    assert "campaign c: 3 leads from Aturiya without a usable lead_id left out" in s.log()


def test_an_aturiya_that_always_has_another_page_is_502_never_a_short_list(tmp_path):
    aturiya = FakeAturiya(pages=None)
    s = Server(tmp_path, env=aturiya.env())
    try:
        status, _, text = s.request("GET", "/api/campaigns/c/leads", timeout=120)
        body = json.loads(text)
        assert status == 502 and "more than 2000 pages" in body["detail"] and "/v1/campaigns/c/leads" in body["detail"]
    finally:
        s.close()
        aturiya.close()
