"""leadenrich-server over real HTTP on loopback, with leadenrich-sandbox (or --sandbox) behind it:
every route and error code, auth, limits, coalescing, metrics, CORS and a graceful SIGTERM."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from test_cli import BIN, ExternalSandbox, SECRET, clean_env  # noqa: E402

SERVER = os.path.join(BIN, "leadenrich-server")
KEY = "srv-key-0123456789"
COMPANY_PIPES = ("company:overview@2", "company:techstack:builtwith@1", "company:funding:leadmagic@1",
                 "company:newssummary:website@1")
PERSON_PIPE = "people:posts:crustdata@1"


class Server:
    """leadenrich-server in its own process; stderr is collected, the address read from it."""

    def __init__(self, tmp_path, *flags, env=None, expect_start=True, store=None):
        self.lines = []
        store = store or str(tmp_path / "server.db")
        self.proc = subprocess.Popen([SERVER, "--port", "0", "--store", store, *flags],
                                     cwd=tmp_path, env=env or clean_env(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.url = None
        started = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                if m:
                    self.url = m.group(1)
                    started.set()
            started.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        started.wait(timeout=20)
        if expect_start:
            assert self.url, "\n".join(self.lines)

    def log(self):
        return "\n".join(self.lines)

    def request(self, method, path, body=None, key=KEY, headers=None, raw=None, timeout=30):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if key:
            req.add_header("Authorization", "Bearer " + key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def json(self, method, path, **kw):
        status, _, text = self.request(method, path, **kw)
        return status, json.loads(text)

    def metrics(self):
        status, _, text = self.request("GET", "/metrics")
        assert status == 200
        return text

    def close(self):
        """Stops it with SIGTERM; a server that was running must exit 0 (and cleanly under ASan)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(timeout=20)
            self.reader.join(timeout=5)
            assert code == 0, self.log()
            assert "Sanitizer" not in self.log(), self.log()
        self.reader.join(timeout=5)


def metric(text, name, **labels):
    """The value of one Prometheus sample, or 0 when it is absent."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" (\S+)$"
    for line in text.splitlines():
        m = re.match(pattern, line)
        if m:
            return float(m.group(1))
    return 0.0


def error_of(status_and_body):
    status, body = status_and_body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return status, body["error"]["code"], body["error"]["message"]


@pytest.fixture
def sandbox():
    s = ExternalSandbox()
    yield s
    s.close()


@pytest.fixture
def server(sandbox, tmp_path):
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=f"other-key, {KEY}"))
    yield s
    s.close()


def lead_of(leads_page, i=0):
    return leads_page["leads"][i]["lead"]


# ---- auth ----

def test_health_is_open_and_everything_else_needs_a_valid_key(server):
    status, body = server.json("GET", "/api/health", key=None)
    assert status == 200 and body["status"] == "ok" and body["auth"] is True and body["sandbox"] is False
    for method, path in [("GET", "/v1/campaigns"), ("GET", "/v1/campaigns/cmp_0001/leads"),
                         ("POST", "/v1/leads/lead_1_0001/enrich"), ("GET", "/v1/leads/lead_1_0001/enrichment"),
                         ("POST", "/v1/enrich"), ("GET", "/metrics")]:
        status, headers, text = server.request(method, path, key=None)
        assert status == 401, (method, path)
        assert headers.get("WWW-Authenticate") == "Bearer"
        assert json.loads(text)["error"]["code"] == "unauthorized"
        assert server.request(method, path, key="wrong-key")[0] == 401
        assert server.request(method, path, key=KEY[:-1])[0] == 401
        assert server.request(method, path, key=KEY + "x")[0] == 401
    assert server.request("GET", "/v1/campaigns", key="other-key")[0] == 200
    assert server.request("GET", "/v1/campaigns", key=KEY)[0] == 200
    assert KEY not in server.log() and "other-key" not in server.log()


def test_refuses_to_start_without_keys_unless_told_loudly(sandbox, tmp_path):
    s = Server(tmp_path, env=sandbox.env(), expect_start=False)
    assert s.proc.wait(timeout=20) == 2
    s.reader.join(timeout=5)
    assert "LEADENRICH_API_KEYS" in s.log() and "--insecure-no-auth" in s.log()

    s = Server(tmp_path, "--insecure-no-auth", env=sandbox.env())
    try:
        assert "WARNING: --insecure-no-auth" in s.log()
        assert s.request("GET", "/v1/campaigns", key=None)[0] == 200
        assert s.json("GET", "/api/health", key=None)[1]["auth"] is False
    finally:
        s.close()


# ---- campaigns and leads ----

def test_campaigns_and_leads_page_by_page(server):
    status, body = server.json("GET", "/v1/campaigns")
    assert status == 200
    ids = [c["id"] for c in body["campaigns"]]
    assert ids == ["cmp_0001", "cmp_0002", "cmp_0003"]
    assert all(c["name"] for c in body["campaigns"])

    status, first = server.json("GET", "/v1/campaigns/cmp_0002/leads?per_page=7")
    assert status == 200 and first["page"] == 1 and first["per_page"] == 7 and first["has_next"] is True
    status, second = server.json("GET", "/v1/campaigns/cmp_0002/leads?page=2&per_page=7")
    assert len(first["leads"]) == 7 and len(second["leads"]) == 7
    first_ids = {e["lead"]["lead_id"] for e in first["leads"]}
    second_ids = {e["lead"]["lead_id"] for e in second["leads"]}
    assert not first_ids & second_ids
    assert all(e["lead"]["campaign_id"] == "cmp_0002" and e["enrichment"] is None for e in first["leads"])

    _, last = server.json("GET", "/v1/campaigns/cmp_0002/leads?page=3&per_page=25")
    assert len(last["leads"]) == 10 and last["has_next"] is False  # 60 leads per campaign
    _, default = server.json("GET", "/v1/campaigns/cmp_0002/leads")
    assert default["per_page"] == 50 and len(default["leads"]) == 50


@pytest.mark.parametrize("query", ["per_page=0", "per_page=201", "page=0", "page=abc", "per_page=-1", "page=1.5"])
def test_bad_paging_is_a_400_naming_the_parameter(server, query):
    status, code, message = error_of(server.json("GET", "/v1/campaigns/cmp_0001/leads?" + query))
    assert status == 400 and code == "invalid_argument"
    assert query.split("=")[0] in message


def test_ids_are_validated(server):
    for path in ["/v1/campaigns/bad%20id/leads", "/v1/leads/%E2%98%83/enrichment", "/v1/leads/%3Cscript%3E/enrich",
                 "/v1/leads/" + "x" * 129 + "/enrichment"]:
        method = "POST" if path.endswith("enrich") else "GET"
        status, code, message = error_of(server.json(method, path))
        assert (status, code) == (400, "invalid_argument"), path
        assert "invalid" in message and "id" in message


def test_unknown_routes_are_json_404s(server):
    status, code, _ = error_of(server.json("GET", "/v1/nothing"))
    assert (status, code) == (404, "not_found")


# ---- enrichment ----

def test_enrich_by_id_fetches_the_lead_and_stores_the_result(server):
    _, page = server.json("GET", "/v1/campaigns/cmp_0001/leads?per_page=10")
    lead = next(e["lead"] for e in page["leads"] if e["lead"]["website"])
    lead_id = lead["lead_id"]
    status, code, message = error_of(server.json("GET", f"/v1/leads/{lead_id}/enrichment"))
    assert (status, code) == (404, "not_found") and lead_id in message

    status, enriched = server.json("POST", f"/v1/leads/{lead_id}/enrich")
    assert status == 200
    assert enriched["lead"] == lead  # Aturiya's lead, untouched
    assert set(enriched["signals"]) == {"company_overview", "tech_stack", "funding", "news", "linkedin_posts"}
    assert enriched["signals_found"] and enriched["enriched_at"] and enriched["sandbox"] is False
    assert enriched["company_key"]

    status, _, stored = server.request("GET", f"/v1/leads/{lead_id}/enrichment")
    assert status == 200 and json.loads(stored) == enriched

    _, page = server.json("GET", "/v1/campaigns/cmp_0001/leads?per_page=10")
    summary = next(e["enrichment"] for e in page["leads"] if e["lead"]["lead_id"] == lead_id)
    assert summary["quality_score"] == enriched["quality_score"]
    assert summary["signals_found"] == enriched["signals_found"]
    assert summary["statuses"] == {k: v["status"] for k, v in enriched["signals"].items()}

    # Enriching again inside the freshness window is answered from the store.
    status, again = server.json("POST", f"/v1/leads/{lead_id}/enrich")
    assert status == 200 and again["billed_lookups"] == 0
    assert all(s["from_cache"] for s in again["signals"].values() if s["status"] in ("found", "no_result"))

    status, code, _ = error_of(server.json("POST", "/v1/leads/lead_9_9999/enrich"))
    assert (status, code) == (404, "not_found")


def test_enrich_with_a_body_keeps_unknown_keys_and_checks_the_id(server):
    lead = {"lead_id": "ext-42", "name": "Dana Reyes", "website": "https://www.northwind-analytics.com/",
            "linkedin_url": "https://linkedin.com/in/dana-reyes", "crm_owner": "sam", "score": 7}
    status, enriched = server.json("POST", "/v1/leads/ext-42/enrich", body=lead)
    assert status == 200
    assert enriched["lead"]["crm_owner"] == "sam" and enriched["lead"]["score"] == 7
    assert enriched["company_key"] == "northwind-analytics.com"
    assert enriched["person_key"] == "https://www.linkedin.com/in/dana-reyes"

    status, code, message = error_of(server.json("POST", "/v1/leads/ext-43/enrich", body=lead))
    assert (status, code) == (400, "invalid_argument")
    assert "ext-42" in message and "ext-43" in message
    status, code, message = error_of(server.json("POST", "/v1/leads/ext-42/enrich", raw=b'{"lead_id": '))
    assert (status, code) == (400, "invalid_argument") and message.startswith("request body")
    status, code, message = error_of(server.json("POST", "/v1/leads/ext-42/enrich", body={"name": "x"}))
    assert status == 400 and "lead_id" in message


def test_bodies_over_the_limit_are_413(sandbox, tmp_path):
    s = Server(tmp_path, "--max-body-bytes", "2000", env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        big = {"lead_id": "big-1", "notes": "x" * 5000}
        status, code, message = error_of(s.json("POST", "/v1/leads/big-1/enrich", body=big))
        assert (status, code) == (413, "payload_too_large") and "2000" in message
        status, code, _ = error_of(s.json("POST", "/v1/enrich", body={"leads": [big]}))
        assert (status, code) == (413, "payload_too_large")
        assert s.json("POST", "/v1/leads/big-1/enrich", body={"lead_id": "big-1", "notes": "short"})[0] == 200
    finally:
        s.close()


def test_batch_enrichment_in_order_with_a_limit(sandbox, tmp_path):
    s = Server(tmp_path, "--max-batch", "4", env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        _, page = s.json("GET", "/v1/campaigns/cmp_0003/leads?per_page=6")
        leads = [e["lead"] for e in page["leads"]]
        status, body = s.json("POST", "/v1/enrich", body={"leads": leads[:4]})
        assert status == 200
        assert [l["lead"]["lead_id"] for l in body["leads"]] == [l["lead_id"] for l in leads[:4]]
        assert body["summary"]["leads"] == 4
        assert body["summary"]["billed_lookups"] == sum(l["billed_lookups"] for l in body["leads"])
        for l in body["leads"]:
            status, _, stored = s.request("GET", f"/v1/leads/{l['lead']['lead_id']}/enrichment")
            assert status == 200 and json.loads(stored) == l

        status, code, message = error_of(s.json("POST", "/v1/enrich", body={"leads": leads[:5]}))
        assert (status, code) == (400, "too_many_leads") and "at most 4" in message
        status, code, message = error_of(s.json("POST", "/v1/enrich", body={"leads": []}))
        assert status == 400 and "empty" in message
        status, code, message = error_of(s.json("POST", "/v1/enrich", body={"leads": [leads[0], {"name": "no id"}]}))
        assert status == 400 and "leads[1]" in message
        status, code, message = error_of(s.json("POST", "/v1/enrich", body={"people": []}))
        assert status == 400 and "leads" in message
    finally:
        s.close()


def test_simultaneous_requests_for_one_company_make_one_lookup(tmp_path):
    sandbox = ExternalSandbox("--latency-ms", "400")
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        n = 6
        leads = [{"lead_id": f"co-{i}", "name": f"Person {i}", "website": "https://coalesce-demo.io",
                  "linkedin_url": f"https://www.linkedin.com/in/person-{i}"} for i in range(n)]
        results = [None] * n

        def enrich(i):
            results[i] = s.json("POST", f"/v1/leads/co-{i}/enrich", body=leads[i])

        threads = [threading.Thread(target=enrich, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert all(r and r[0] == 200 for r in results), results
        lookups = sandbox.counters()["lookups"]
        for pipe in COMPANY_PIPES:
            assert lookups.get(pipe) == 1, (pipe, lookups)
        assert lookups.get(PERSON_PIPE) == n
        overviews = {json.dumps(r[1]["signals"]["company_overview"]["value"]) for r in results}
        assert len(overviews) == 1  # every lead got the one lookup's answer
        m = s.metrics()
        # The other requests took the one lookup's answer while it flew (shared), or from the
        # store once it had landed: to them both are known answers, never a second lookup.
        shared = metric(m, "leadenrich_coalesced_waits_total")
        assert 1 <= shared <= (n - 1) * len(COMPANY_PIPES)
        assert metric(m, "leadenrich_lookups_total", signal="company_overview") == 1
        assert metric(m, "leadenrich_cache_hits_total", signal="company_overview") == n - 1
    finally:
        s.close()
        sandbox.close()


# ---- upstream failures ----

def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_upstreams_are_502_and_never_leak_the_keys(tmp_path):
    dead = f"http://127.0.0.1:{closed_port()}"
    env = clean_env(LEADENRICH_API_KEYS=KEY, PIPE0_API_KEY=SECRET, PIPE0_BASE_URL=dead, ATURIYA_BASE_URL=dead,
                    ATURIYA_BEARER_TOKEN=SECRET, ATURIYA_USER_ID="user_1", ATURIYA_AGENT_ID="agent_" + "a" * 32)
    s = Server(tmp_path, "--upstream-timeout-ms", "2000", env=env)
    try:
        status, code, message = error_of(s.json("GET", "/v1/campaigns"))
        assert (status, code) == (502, "upstream_error") and "Aturiya" in message
        status, code, message = error_of(s.json("POST", "/v1/leads/x-1/enrich",
                                                 body={"lead_id": "x-1", "website": "acme.com"}))
        assert (status, code) == (502, "upstream_error") and "pipe0" in message
        m = s.metrics()
        assert metric(m, "leadenrich_upstream_errors_total", api="aturiya", code="unavailable") >= 1
        assert metric(m, "leadenrich_upstream_errors_total", api="pipe0", code="unavailable") >= 1
        assert s.request("GET", "/v1/leads/x-1/enrichment")[0] == 404  # a failure is not stored
    finally:
        s.close()
    assert SECRET not in s.log()


def test_without_aturiya_only_its_routes_are_503(sandbox, tmp_path):
    env = {k: v for k, v in sandbox.env(LEADENRICH_API_KEYS=KEY).items() if not k.startswith("ATURIYA_")}
    s = Server(tmp_path, env=env)
    try:
        assert "Aturiya not configured" in s.log()
        for method, path in [("GET", "/v1/campaigns"), ("GET", "/v1/campaigns/cmp_0001/leads"),
                             ("POST", "/v1/leads/lead_1_0001/enrich")]:
            status, code, message = error_of(s.json(method, path))
            assert (status, code) == (503, "unavailable") and "ATURIYA_BEARER_TOKEN" in message
        status, enriched = s.json("POST", "/v1/leads/n-1/enrich", body={"lead_id": "n-1", "website": "no-aturiya.io"})
        assert status == 200 and enriched["company_key"] == "no-aturiya.io"
    finally:
        s.close()


def test_a_slow_upstream_is_504(tmp_path):
    sandbox = ExternalSandbox("--latency-ms", "3000")
    s = Server(tmp_path, "--upstream-timeout-ms", "300", env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        status, code, message = error_of(s.json("POST", "/v1/leads/slow-1/enrich",
                                                 body={"lead_id": "slow-1", "website": "slow.example"}))
        assert (status, code) == (504, "upstream_timeout"), message
    finally:
        s.close()
        sandbox.close()


def test_rejected_upstream_credentials_are_502_not_401(tmp_path):
    sandbox = ExternalSandbox("--require-key", "the-real-key")
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY, PIPE0_API_KEY=SECRET, ATURIYA_BEARER_TOKEN=SECRET))
    try:
        status, code, message = error_of(s.json("GET", "/v1/campaigns"))
        assert (status, code) == (502, "upstream_error")
        status, _, text = s.request("POST", "/v1/leads/k-1/enrich", body={"lead_id": "k-1", "website": "k.example"})
        assert status == 502 and SECRET not in text
    finally:
        s.close()
        sandbox.close()
    assert SECRET not in s.log()


# ---- OpenAPI, metrics, CORS ----

def test_openapi_documents_exactly_the_routes_served(server):
    status, headers, text = server.request("GET", "/openapi.json", key=None)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    doc = json.loads(text)
    assert doc["openapi"].startswith("3.") and doc["info"]["version"] == server.json("GET", "/api/health")[1]["version"]
    served = {("GET", "/api/health"), ("GET", "/api/campaigns"), ("GET", "/api/campaigns/{campaign_id}/leads"),
              ("POST", "/api/leads/{lead_id}/enrich"),
              ("GET", "/v1/campaigns"), ("GET", "/v1/campaigns/{id}/leads"),
              ("POST", "/v1/leads/{id}/enrich"), ("GET", "/v1/leads/{id}/enrichment"), ("POST", "/v1/enrich"),
              ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/metrics"),
              ("POST", "/v1/jobs"), ("GET", "/v1/jobs"), ("GET", "/v1/jobs/{id}"), ("DELETE", "/v1/jobs/{id}"),
              ("GET", "/v1/jobs/{id}/results")}
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == served
    # Each documented route exists (no route answers 404 "no route" or, under /api/, "Not Found").
    for method, path in served:
        concrete = path.replace("{id}", "cmp_0001" if "campaigns" in path else "lead_1_0001")
        concrete = concrete.replace("{campaign_id}", "cmp_0001").replace("{lead_id}", "lead_1_0001")
        status, _, text = server.request(method, concrete, raw=b"" if method == "POST" else None)
        assert not (status == 404 and ("no route" in text or text == '{"detail":"Not Found"}')), (method, path)
    # Every $ref resolves.
    refs = re.findall(r'"\$ref": ?"#/([^"]+)"', text)
    for ref in refs:
        node = doc
        for part in ref.split("/"):
            node = node[part]


def test_metrics_count_requests_latency_lookups_and_billing(server):
    server.request("GET", "/v1/campaigns")
    server.request("GET", "/v1/leads/nobody/enrichment")
    lead = {"lead_id": "m-1", "website": "metrics-demo.com", "linkedin_url": "https://www.linkedin.com/in/m-one"}
    _, first = server.json("POST", "/v1/leads/m-1/enrich", body=lead)
    server.json("POST", "/v1/leads/m-1/enrich", body=lead)
    status, headers, m = server.request("GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert metric(m, "leadenrich_http_requests_total", route="/v1/campaigns", method="GET", status="200") == 1
    assert metric(m, "leadenrich_http_requests_total", route="/v1/leads/{id}/enrichment", method="GET",
                  status="404") == 1
    assert metric(m, "leadenrich_http_requests_total", route="/v1/leads/{id}/enrich", method="POST",
                  status="200") == 2
    assert metric(m, "leadenrich_http_request_duration_seconds_count", route="/v1/leads/{id}/enrich") == 2
    assert metric(m, "leadenrich_http_request_duration_seconds_bucket", route="/v1/leads/{id}/enrich", le="+Inf") == 2
    assert metric(m, "leadenrich_leads_enriched_total") == 2
    assert metric(m, "leadenrich_billed_lookups_total") == first["billed_lookups"] > 0
    looked_up = sum(metric(m, "leadenrich_lookups_total", signal=s) for s in first["signals"])
    hits = sum(metric(m, "leadenrich_cache_hits_total", signal=s) for s in first["signals"])
    answered = sum(1 for v in first["signals"].values() if v["status"] in ("found", "no_result"))
    assert looked_up == answered and hits == answered  # the second request was all cache


def test_cors_only_for_configured_origins(sandbox, tmp_path):
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY, LEADENRICH_CORS_ORIGINS="https://app.example.com"))
    try:
        status, headers, _ = s.request("OPTIONS", "/v1/campaigns", key=None,
                                       headers={"Origin": "https://app.example.com",
                                                "Access-Control-Request-Method": "GET"})
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert "Authorization" in headers["Access-Control-Allow-Headers"]
        _, headers, _ = s.request("GET", "/v1/campaigns", headers={"Origin": "https://app.example.com"})
        assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        _, headers, _ = s.request("GET", "/v1/campaigns", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in headers
    finally:
        s.close()


def test_no_cors_headers_unless_configured(server):
    _, headers, _ = server.request("GET", "/v1/campaigns", headers={"Origin": "https://app.example.com"})
    assert "Access-Control-Allow-Origin" not in headers


# ---- running it ----

def test_sigterm_finishes_requests_in_progress(tmp_path):
    sandbox = ExternalSandbox("--latency-ms", "1500")
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        result = {}

        def slow():
            result["r"] = s.json("POST", "/v1/leads/t-1/enrich", body={"lead_id": "t-1", "website": "term.example"})

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        s.proc.send_signal(signal.SIGTERM)
        t.join(timeout=30)
        assert result["r"][0] == 200 and result["r"][1]["signals_found"]
        assert s.proc.wait(timeout=20) == 0
        s.reader.join(timeout=5)
        assert "SIGTERM" in s.log() and "stopped" in s.log()
        with pytest.raises(OSError):
            urllib.request.urlopen(s.url + "/api/health", timeout=5)
    finally:
        s.close()
        sandbox.close()


def test_one_log_line_per_request_without_query_strings(server):
    server.request("GET", "/v1/campaigns/cmp_0001/leads?per_page=3")
    time.sleep(0.2)
    lines = [l for l in server.lines if "/v1/campaigns/cmp_0001/leads" in l]
    assert len(lines) == 1
    assert re.search(r"GET /v1/campaigns/cmp_0001/leads 200 \d+\.\d+ms$", lines[0])


def test_sandbox_demo_needs_no_credentials(tmp_path):
    s = Server(tmp_path, "--sandbox", env=clean_env())
    try:
        status, health = s.json("GET", "/api/health", key=None)
        assert status == 200 and health["sandbox"] is True and health["auth"] is False
        status, body = s.json("GET", "/v1/campaigns", key=None)
        assert status == 200 and len(body["campaigns"]) == 3
        lead_id = body and s.json("GET", "/v1/campaigns/cmp_0001/leads?per_page=1", key=None)[1]["leads"][0]["lead"]["lead_id"]
        status, enriched = s.json("POST", f"/v1/leads/{lead_id}/enrich", key=None)
        assert status == 200 and enriched["sandbox"] is True
        status, headers, page = s.request("GET", "/", key=None)
        assert status == 200 and headers["Content-Type"].startswith("text/html") and "leadenrich" in page
    finally:
        s.close()
