"""Background jobs (/v1/jobs) over real HTTP on loopback: a 2,000-lead campaign, results streamed
while the job runs, a server killed mid-job and restarted, signed webhooks with retries,
cancellation and validation."""
import csv
import hashlib
import hmac
import http.server
import io
import json
import os
import signal
import sys
import threading
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_server import KEY, Server, error_of  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from test_cli import ExternalSandbox  # noqa: E402

WEBHOOK_SECRET = "whsec-never-logged-0123456789"


def total(counters, key):
    return sum(counters[key].values())


def wait_for(server, job_id, predicate, timeout=120):
    """Polls the job until predicate(job) holds; returns the job."""
    deadline = time.monotonic() + timeout
    while True:
        status, job = server.json("GET", f"/v1/jobs/{job_id}")
        assert status == 200, job
        if predicate(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def results(server, job_id, fmt="jsonl", timeout=120):
    req = urllib.request.Request(f"{server.url}/v1/jobs/{job_id}/results?format={fmt}")
    req.add_header("Authorization", "Bearer " + KEY)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        assert r.headers["Transfer-Encoding"] == "chunked"
        return r.read().decode()


def lead_ids(text):
    return [json.loads(line)["lead"]["lead_id"] for line in text.splitlines()]


def campaign_order(server, campaign_id):
    ids, page = [], 1
    while True:
        status, body = server.json("GET", f"/v1/campaigns/{campaign_id}/leads?page={page}&per_page=200")
        assert status == 200
        ids += [item["lead"]["lead_id"] for item in body["leads"]]
        if not body["has_next"]:
            return ids
        page += 1


def start_job(server, body):
    status, job = server.json("POST", "/v1/jobs", body=body)
    assert status == 202, job
    assert job["state"] in ("queued", "running") and job["id"].startswith("job_")
    return job["id"]


def test_a_2000_lead_job_streams_every_lead_once_in_input_order(tmp_path):
    sandbox = ExternalSandbox("--campaigns", "1", "--leads-per-campaign", "2000", "--latency-ms", "20")
    s = Server(tmp_path, "-q", env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        expected = campaign_order(s, "cmp_0001")
        assert len(expected) == 2000
        job_id = start_job(s, {"campaign_id": "cmp_0001"})
        # Read while it runs: the stream follows the job and ends when it does.
        streamed = results(s, job_id)
        job = wait_for(s, job_id, lambda j: j["state"] != "running")
        assert job["state"] == "finished", job
        assert lead_ids(streamed) == expected
        assert job["progress"] == {"leads_done": 2000, "leads_total": 2000, "bad_rows": 0}
        assert job["counts"]["attempts"] == 1 and job["counts"]["from_journal"] == 0
        billed = total(sandbox.counters(), "billed")
        assert job["counts"]["billed_lookups"] == billed > 0
        assert sum(json.loads(l)["billed_lookups"] for l in streamed.splitlines()) == billed
        # After the end the same bytes come again, and as CSV one row per lead.
        assert results(s, job_id) == streamed
        rows = list(csv.reader(io.StringIO(results(s, job_id, "csv"), newline="")))
        assert rows[0][0] == "lead_id" and len(rows) == 2001
        assert [r[0] for r in rows[1:]] == expected
        status, listed = s.json("GET", "/v1/jobs")
        assert status == 200 and [j["id"] for j in listed["jobs"]] == [job_id]
    finally:
        s.close()
        sandbox.close()


def test_a_server_killed_mid_job_resumes_it_without_repeating_finished_leads(tmp_path):
    sandbox = ExternalSandbox("--campaigns", "1", "--leads-per-campaign", "800", "--latency-ms", "400")
    env = sandbox.env(LEADENRICH_API_KEYS=KEY)
    s = Server(tmp_path, "-q", env=env)
    try:
        expected = campaign_order(s, "cmp_0001")
        job_id = start_job(s, {"campaign_id": "cmp_0001"})
        # A client follows the results until the server dies under it.
        seen = []

        def follow():
            req = urllib.request.Request(f"{s.url}/v1/jobs/{job_id}/results")
            req.add_header("Authorization", "Bearer " + KEY)
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    for line in r:
                        seen.append(line.decode())
            except Exception:  # the kill cuts the stream
                pass

        reader = threading.Thread(target=follow)
        reader.start()
        before = wait_for(s, job_id, lambda j: j["progress"]["leads_done"] >= 200 and j["run_id"])
        s.proc.kill()
        s.proc.wait(timeout=10)
        reader.join(timeout=30)
        time.sleep(1.5)  # pipe0 finishes (and bills) the runs that were in flight at the kill
        billed_before_kill = total(sandbox.counters(), "billed")
        on_disk = json.loads((tmp_path / "server.db.jobs" / f"{job_id}.json").read_text())
        assert on_disk["state"] == "running" and on_disk["progress"]["leads_done"] < 800, on_disk["progress"]
    finally:
        s.close()
    s = Server(tmp_path, env=env)
    try:
        job = wait_for(s, job_id, lambda j: j["state"] not in ("queued", "running"))
        assert job["state"] == "finished", job
        assert "queued again to resume" in s.log() and "resuming run " + before["run_id"] in s.log()
        # The same journaled run went on, and the leads it had finished came from its journal.
        assert job["run_id"] == before["run_id"] and job["counts"]["attempts"] == 2
        journaled = job["counts"]["from_journal"]
        assert journaled >= 200 - 64  # recorded 64 at a time (or once a second): all but the last batch
        streamed = results(s, job_id).splitlines(keepends=True)
        assert lead_ids("".join(streamed)) == expected
        # A journaled lead is delivered as it was first enriched (same bytes: enriched_at, billing),
        # never enriched again.
        same = min(journaled, len(seen))
        assert same >= 100 and streamed[:same] == seen[:same]
        # pipe0 can only have billed twice what was billed before the kill for leads the journal did
        # not have yet (answers lost with the process); none of the journaled leads' lookups.
        counters = sandbox.counters()
        billed_for_journaled = sum(json.loads(l)["billed_lookups"] for l in streamed[:journaled])
        print(f"killed at {before['progress']['leads_done']} leads done; resumed with {journaled} from the journal; "
              f"billed {total(counters, 'billed')} ({billed_before_kill} before the kill, {billed_for_journaled} for "
              f"journaled leads); repeated_billing {counters['repeated_billing']}")
        assert counters["repeated_billing"] <= billed_before_kill - billed_for_journaled
        assert job["counts"]["billed_lookups"] == sum(json.loads(l)["billed_lookups"] for l in streamed)
    finally:
        s.close()
        sandbox.close()


def test_a_job_over_a_list_of_leads_keeps_their_order_and_lets_them_go_when_done(sandbox, tmp_path):
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        _, page = s.json("GET", "/v1/campaigns/cmp_0002/leads?per_page=30")
        leads = [item["lead"] for item in page["leads"]][::-1]  # an order of our own
        leads[4]["custom_key"] = "kept"
        job_id = start_job(s, {"leads": leads, "signals": ["company_overview", "news"]})
        job = wait_for(s, job_id, lambda j: j["state"] not in ("queued", "running"))
        assert job["state"] == "finished" and job["spec"]["leads"] == 30
        assert job["spec"]["signals"] == ["company_overview", "news"]
        assert job["progress"]["leads_total"] == 30
        got = [json.loads(line) for line in results(s, job_id).splitlines()]
        assert [g["lead"]["lead_id"] for g in got] == [l["lead_id"] for l in leads]
        assert got[4]["lead"]["custom_key"] == "kept"
        assert all(g["signals"]["funding"]["status"] == "disabled" for g in got)
        on_disk = json.loads((tmp_path / "server.db.jobs" / f"{job_id}.json").read_text())
        assert on_disk["spec"]["leads"] == 30  # the leads themselves are not kept once it has ended
    finally:
        s.close()


def test_sigterm_interrupts_a_running_job_and_the_next_start_finishes_it(tmp_path):
    sandbox = ExternalSandbox("--campaigns", "1", "--leads-per-campaign", "800", "--latency-ms", "400")
    env = sandbox.env(LEADENRICH_API_KEYS=KEY)
    s = Server(tmp_path, env=env)
    try:
        expected = campaign_order(s, "cmp_0001")
        job_id = start_job(s, {"campaign_id": "cmp_0001"})
        wait_for(s, job_id, lambda j: j["progress"]["leads_done"] >= 100)
    finally:
        s.close()  # SIGTERM: exits 0 without waiting for the job
    assert "interrupted, resumes at the next start" in s.log()
    s = Server(tmp_path, env=env)
    try:
        job = wait_for(s, job_id, lambda j: j["state"] not in ("queued", "running"))
        assert job["state"] == "finished" and job["counts"]["attempts"] == 2 and job["counts"]["from_journal"] > 0
        assert lead_ids(results(s, job_id)) == expected
    finally:
        s.close()
        sandbox.close()


class Receiver:
    """A loopback webhook receiver: answers `statuses` in turn (then 200) and keeps every request."""

    def __init__(self, statuses=(), hang_first=False):
        self.requests = []
        self.statuses = list(statuses)
        self.release = threading.Event()
        if not hang_first:
            self.release.set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if len(receiver.requests) == 1:
                    receiver.release.wait(timeout=30)
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def verify(headers, body, secret=WEBHOOK_SECRET, tolerance=300):
    """What a receiver does: recompute the signature over timestamp + "." + body, compare in
    constant time, and refuse old timestamps."""
    timestamp = headers["X-Leadenrich-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Leadenrich-Signature"]) and \
        abs(time.time() - int(timestamp)) <= tolerance


@pytest.fixture
def sandbox():
    s = ExternalSandbox()
    yield s
    s.close()


def webhook_server(tmp_path, sandbox, *flags):
    return Server(tmp_path, "--webhook-retry-ms", "100", *flags,
                  env=sandbox.env(LEADENRICH_API_KEYS=KEY, LEADENRICH_WEBHOOK_SECRET=WEBHOOK_SECRET,
                                  LEADENRICH_WEBHOOK_HOSTS="127.0.0.1"))


def test_the_webhook_arrives_signed_and_a_receiver_failing_twice_gets_it_on_the_third_try(sandbox, tmp_path):
    receiver = Receiver(statuses=[500, 500])
    s = webhook_server(tmp_path, sandbox)
    try:
        job_id = start_job(s, {"campaign_id": "cmp_0001", "webhook_url": receiver.url})
        job = wait_for(s, job_id, lambda j: j["webhook"]["deliveries"] and
                       j["webhook"]["deliveries"][-1]["state"] != "pending")
        assert job["state"] == "finished"
        [delivery] = job["webhook"]["deliveries"]
        assert delivery["event"] == "job.finished" and delivery["state"] == "delivered"
        assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
        assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500", "HTTP 500", None]
        assert len(receiver.requests) == 3
        bodies = {body for _, body in receiver.requests}
        assert len(bodies) == 1  # every attempt carries the same delivery
        for headers, body in receiver.requests:
            assert verify(headers, body)
            assert headers["X-Leadenrich-Event"] == "job.finished"
            assert headers["X-Leadenrich-Delivery"] == delivery["id"]
            assert not verify(headers, body.replace(b"finished", b"finishes"))  # a changed body fails
            assert not verify(headers, body, secret="another-secret")
        payload = json.loads(bodies.pop())
        assert payload["event"] == "job.finished" and payload["job"]["id"] == job_id
        assert payload["job"]["state"] == "finished" and payload["job"]["progress"]["leads_done"] == 60
        assert WEBHOOK_SECRET not in s.log() and WEBHOOK_SECRET not in json.dumps(job)
        assert not any(WEBHOOK_SECRET in p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    finally:
        s.close()
        receiver.close()


@pytest.mark.parametrize("secret_after_restart", [WEBHOOK_SECRET, None])
def test_a_final_webhook_pending_at_a_stop_is_sent_after_the_restart_never_unsigned(sandbox, tmp_path,
                                                                                    secret_after_restart):
    receiver = Receiver(statuses=[503])
    env = sandbox.env(LEADENRICH_API_KEYS=KEY, LEADENRICH_WEBHOOK_SECRET=WEBHOOK_SECRET,
                      LEADENRICH_WEBHOOK_HOSTS="127.0.0.1")
    s = Server(tmp_path, "--webhook-retry-ms", "600000", env=env)  # the 2nd attempt would wait 10 minutes
    try:
        job_id = start_job(s, {"campaign_id": "cmp_0001", "signals": ["news"], "webhook_url": receiver.url})
        wait_for(s, job_id, lambda j: j["state"] == "finished" and j["webhook"]["deliveries"] and
                 j["webhook"]["deliveries"][0]["attempts"])
    finally:
        s.close()  # does not wait out the backoff
    if secret_after_restart is None:
        del env["LEADENRICH_WEBHOOK_SECRET"]
    s = Server(tmp_path, "--webhook-retry-ms", "100", env=env)
    try:
        job = wait_for(s, job_id, lambda j: j["webhook"]["deliveries"][0]["state"] != "pending")
        [delivery] = job["webhook"]["deliveries"]
        if secret_after_restart:
            assert delivery["state"] == "delivered"
            assert [a["status"] for a in delivery["attempts"]] == [503, 200]
            assert len(receiver.requests) == 2 and all(verify(h, b) for h, b in receiver.requests)
        else:
            assert delivery["state"] == "failed" and "never sent unsigned" in delivery["attempts"][-1]["error"]
            assert len(receiver.requests) == 1
    finally:
        s.close()
        receiver.close()


def test_a_receiver_that_does_not_answer_does_not_hold_a_stop(sandbox, tmp_path):
    receiver = Receiver(hang_first=True)
    s = webhook_server(tmp_path, sandbox)
    try:
        job_id = start_job(s, {"campaign_id": "cmp_0001", "signals": ["news"], "webhook_url": receiver.url})
        wait_for(s, job_id, lambda j: j["state"] == "finished" and receiver.requests)
        stopping = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=20) == 0
        # The delivery's own timeout is 10 s; the stop did not wait for it.
        assert time.monotonic() - stopping < 5
    finally:
        s.close()
    receiver.release.set()
    s = webhook_server(tmp_path, sandbox)
    try:
        job = wait_for(s, job_id, lambda j: j["webhook"]["deliveries"][0]["state"] != "pending")
        [delivery] = job["webhook"]["deliveries"]
        assert delivery["state"] == "delivered" and [a["status"] for a in delivery["attempts"]] == [200]
        assert [h["X-Leadenrich-Delivery"] for h, _ in receiver.requests] == [delivery["id"]] * 2
    finally:
        s.close()
        receiver.close()


def test_progress_webhooks_every_n_leads_then_the_final_one(sandbox, tmp_path):
    receiver = Receiver()
    s = webhook_server(tmp_path, sandbox)
    try:
        job_id = start_job(s, {"campaign_id": "cmp_0002", "signals": ["news"], "webhook_url": receiver.url,
                               "progress_every": 20})
        job = wait_for(s, job_id, lambda j: j["state"] == "finished" and
                       all(d["state"] != "pending" for d in j["webhook"]["deliveries"]))
        events = [json.loads(body)["event"] for _, body in receiver.requests]
        assert events[-1] == "job.finished" and 1 <= events.count("job.progress") <= 3
        assert all(verify(h, b) for h, b in receiver.requests)
        done = [json.loads(b)["job"]["progress"]["leads_done"] for _, b in receiver.requests]
        assert done == sorted(done) and done[-1] == 60
        assert job["webhook"]["deliveries_total"] == len(receiver.requests)
    finally:
        s.close()
        receiver.close()


def test_an_unreachable_receiver_is_retried_then_marked_failed(sandbox, tmp_path):
    receiver = Receiver()
    url = receiver.url
    receiver.close()  # nothing listens there any more
    s = webhook_server(tmp_path, sandbox, "--webhook-attempts", "3")
    try:
        job_id = start_job(s, {"campaign_id": "cmp_0001", "signals": ["news"], "webhook_url": url})
        job = wait_for(s, job_id, lambda j: j["webhook"]["deliveries"] and
                       j["webhook"]["deliveries"][-1]["state"] != "pending")
        [delivery] = job["webhook"]["deliveries"]
        assert delivery["state"] == "failed" and len(delivery["attempts"]) == 3
        assert all(a["status"] is None and a["error"] for a in delivery["attempts"])
    finally:
        s.close()


def test_cancel_stops_a_running_job_and_a_restart_does_not_resume_it(tmp_path):
    sandbox = ExternalSandbox("--campaigns", "1", "--leads-per-campaign", "400", "--latency-ms", "300")
    env = sandbox.env(LEADENRICH_API_KEYS=KEY)
    s = Server(tmp_path, env=env)
    try:
        expected = campaign_order(s, "cmp_0001")
        job_id = start_job(s, {"campaign_id": "cmp_0001"})
        wait_for(s, job_id, lambda j: j["state"] == "running")
        status, job = s.json("DELETE", f"/v1/jobs/{job_id}")
        assert status == 202 and job["id"] == job_id
        job = wait_for(s, job_id, lambda j: j["state"] != "running", timeout=30)
        assert job["state"] == "cancelled"
        got = lead_ids(results(s, job_id))
        assert len(got) < 400 and got == [i for i in expected if i in set(got)]  # in order, each once
        assert error_of(s.json("DELETE", f"/v1/jobs/{job_id}"))[:2] == (409, "conflict")
    finally:
        s.close()
    s = Server(tmp_path, env=env)
    try:
        time.sleep(0.5)
        status, job = s.json("GET", f"/v1/jobs/{job_id}")
        assert status == 200 and job["state"] == "cancelled" and job["counts"]["attempts"] == 1
    finally:
        s.close()
        sandbox.close()


def test_a_queued_job_can_be_cancelled_and_the_queue_is_bounded(tmp_path):
    sandbox = ExternalSandbox("--campaigns", "3", "--leads-per-campaign", "400", "--latency-ms", "300")
    s = Server(tmp_path, "--max-jobs", "1", "--max-queued-jobs", "1", env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        first = start_job(s, {"campaign_id": "cmp_0001"})
        wait_for(s, first, lambda j: j["state"] == "running")
        second = start_job(s, {"campaign_id": "cmp_0002"})  # waits: one job runs at a time
        status, code, message = error_of(s.json("POST", "/v1/jobs", body={"campaign_id": "cmp_0003"}))
        assert (status, code) == (429, "too_many_jobs") and "at most 1" in message
        status, job = s.json("DELETE", f"/v1/jobs/{second}")
        assert status == 202 and job["state"] == "cancelled" and job["started_at"] is None
        assert results(s, second) == ""
        third = start_job(s, {"campaign_id": "cmp_0003"})  # the queue has room again
        assert s.json("DELETE", f"/v1/jobs/{third}")[0] == 202
        assert s.json("DELETE", f"/v1/jobs/{first}")[0] == 202
        wait_for(s, first, lambda j: j["state"] == "cancelled", timeout=30)
        assert [j["state"] for j in s.json("GET", "/v1/jobs")[1]["jobs"]] == ["cancelled"] * 3
    finally:
        s.close()
        sandbox.close()


@pytest.mark.parametrize("body, field", [
    ({}, "give campaign_id or leads (the leads to enrich)"),
    ({"campaign_id": "cmp_0001", "leads": [{"lead_id": "a"}]}, "not both"),
    ({"campaign_id": "bad id"}, "campaign_id"),
    ({"campaign_id": 7}, "campaign_id"),
    ({"leads": []}, "leads"),
    ({"leads": [{"name": "no id"}]}, "leads[0]"),
    ({"leads": [{"lead_id": "ok"}, {"lead_id": "<bad>"}]}, "leads[1]"),
    ({"campaign_id": "cmp_0001", "signals": ["weather"]}, "signals"),
    ({"campaign_id": "cmp_0001", "signals": []}, "signals"),
    ({"campaign_id": "cmp_0001", "signals": ["news", "news"]}, "signals"),
    ({"campaign_id": "cmp_0001", "webhook_url": "ftp://127.0.0.1/x"}, "webhook_url"),
    ({"campaign_id": "cmp_0001", "webhook_url": "http://user:pw@127.0.0.1/x"}, "webhook_url"),
    ({"campaign_id": "cmp_0001", "webhook_url": "http://169.254.169.254/latest"}, "webhook_url"),
    ({"campaign_id": "cmp_0001", "webhook_url": "http://127.0.0.1:99999/x"}, "webhook_url"),
    ({"campaign_id": "cmp_0001", "webhook_url": 5}, "webhook_url"),
    ({"campaign_id": "cmp_0001", "progress_every": 10}, "progress_every"),
    ({"campaign_id": "cmp_0001", "webhook_url": "http://127.0.0.1/x", "progress_every": 0}, "progress_every"),
    ({"campaign_id": "cmp_0001", "webhook_url": "http://127.0.0.1/x", "progress_every": "5"}, "progress_every"),
    ({"campaign_id": "cmp_0001", "webhok_url": "http://127.0.0.1/x"}, "webhok_url"),
    ([{"lead_id": "a"}], "request body"),
])
def test_bad_job_requests_are_one_line_400s_naming_the_field(sandbox, tmp_path, body, field):
    s = webhook_server(tmp_path, sandbox)
    try:
        status, code, message = error_of(s.json("POST", "/v1/jobs", body=body))
        assert (status, code) == (400, "invalid_argument") and field in message and "\n" not in message
        assert s.json("GET", "/v1/jobs")[1] == {"jobs": []}
    finally:
        s.close()


def test_webhooks_need_an_allowed_host_and_a_secret(sandbox, tmp_path):
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    try:
        status, _, message = error_of(s.json("POST", "/v1/jobs", body={"campaign_id": "cmp_0001",
                                                                       "webhook_url": "http://127.0.0.1/x"}))
        assert status == 400 and "LEADENRICH_WEBHOOK_HOSTS" in message
    finally:
        s.close()
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY, LEADENRICH_WEBHOOK_HOSTS="127.0.0.1"))
    try:
        status, _, message = error_of(s.json("POST", "/v1/jobs", body={"campaign_id": "cmp_0001",
                                                                       "webhook_url": "http://127.0.0.1/x"}))
        assert status == 400 and "LEADENRICH_WEBHOOK_SECRET" in message
    finally:
        s.close()


def test_job_routes_need_a_key_and_valid_ids(server):
    for method, path in [("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("GET", "/v1/jobs/job_x"),
                         ("DELETE", "/v1/jobs/job_x"), ("GET", "/v1/jobs/job_x/results")]:
        assert server.request(method, path, key=None)[0] == 401, (method, path)
    assert error_of(server.json("GET", "/v1/jobs/job_20260101T000000Z_abcdef"))[:2] == (404, "not_found")
    assert error_of(server.json("GET", "/v1/jobs/job_20260101T000000Z_abcdef/results"))[:2] == (404, "not_found")
    assert error_of(server.json("DELETE", "/v1/jobs/job_20260101T000000Z_abcdef"))[:2] == (404, "not_found")
    assert error_of(server.json("GET", "/v1/jobs/job%20x"))[:2] == (400, "invalid_argument")
    assert error_of(server.json("GET", "/v1/jobs/..%2Fx"))[:2] == (404, "not_found")  # no such route
    assert error_of(server.json("GET", "/v1/jobs/job_1/results?format=xml"))[:2] == (400, "invalid_argument")


@pytest.fixture
def server(sandbox, tmp_path):
    s = Server(tmp_path, env=sandbox.env(LEADENRICH_API_KEYS=KEY))
    yield s
    s.close()
