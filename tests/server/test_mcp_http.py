"""/mcp on leadenrich-server at the HTTP level: a streamed tool call leaves a connection that carries
the next request, its log line and metrics are the server's, and it is behind the API keys."""
import http.client
import json
import os
import re
import subprocess
import urllib.request

BIN = os.environ.get("LEADENRICH_BIN_DIR", "build/apps")
SERVER = os.path.join(BIN, "leadenrich-server")
KEY = "mcp-http-test-key"


def start(tmp_path):
    proc = subprocess.Popen([SERVER, "--sandbox", "--port", "0", "--store", str(tmp_path / "server.db")],
                            cwd=tmp_path, env={"PATH": os.environ["PATH"], "LEADENRICH_API_KEYS": KEY},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = []
    for line in proc.stderr:
        log.append(line)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1)), log
    raise AssertionError("server did not start:\n" + "".join(log))


def stop(proc, log):
    proc.terminate()
    log.extend(proc.stderr.readlines())
    proc.wait(timeout=30)


def post(conn, body, session=None, accept="application/json, text/event-stream"):
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", "Accept": accept}
    if session:
        headers["Mcp-Session-Id"] = session
    conn.request("POST", "/mcp", body=json.dumps(body), headers=headers)
    res = conn.getresponse()
    return res, res.read().decode()


def test_a_streamed_call_keeps_the_connection_and_is_logged_and_counted(tmp_path):
    proc, port, log = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        res, text = post(conn, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                "params": {"protocolVersion": "2025-06-18"}})
        assert res.status == 200
        session = res.getheader("Mcp-Session-Id")
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "enrich_leads", "arguments": {"campaign_id": "cmp_0001", "limit": 5},
                           "_meta": {"progressToken": 7}}}
        res, text = post(conn, call, session)
        assert res.status == 200
        assert res.getheader("Content-Type") == "text/event-stream"
        assert res.getheader("Transfer-Encoding") == "chunked"
        assert res.getheader("Mcp-Session-Id") == session
        events = [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]
        assert all(e["method"] == "notifications/progress" and e["params"]["progressToken"] == 7 for e in events[:-1])
        assert len(events) >= 2
        assert events[-1]["id"] == 2 and events[-1]["result"]["structuredContent"]["summary"]["leads"] == 5
        # The same connection carries the next request: the streamed answer was complete and nothing
        # of the parser's own answer followed it.
        res, text = post(conn, {"jsonrpc": "2.0", "id": 3, "method": "ping"}, session, accept="application/json")
        assert res.status == 200 and json.loads(text)["result"] == {}
        conn.close()

        req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {KEY}"})
        metrics = urllib.request.urlopen(req, timeout=30).read().decode()
        assert 'leadenrich_http_requests_total{route="/mcp",method="POST",status="200"} 3' in metrics

        res, _ = post(http.client.HTTPConnection("127.0.0.1", port, timeout=30), {"jsonrpc": "2.0", "id": 1, "method": "ping"},
                      session)
        assert res.status == 200
        bad = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        bad.request("POST", "/mcp", body="{}", headers={"Content-Type": "application/json"})
        assert bad.getresponse().status == 401
    finally:
        stop(proc, log)
    text = "".join(log)
    assert text.count("POST /mcp 200") == 4
    assert "POST /mcp 401" in text
    assert KEY not in text
