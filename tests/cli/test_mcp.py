"""`leadenrich mcp`: the MCP tools over stdio as a host runs them — protocol on stdout only, logs on
stderr, configured like the CLI, and what happens when the host closes stdin or stdout."""
import json
import os
import subprocess

BIN = os.environ.get("LEADENRICH_BIN_DIR", "build/apps")
CLI = os.path.join(BIN, "leadenrich")
SECRET = "s3cret-key-never-printed"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ATURIYA_", "PIPE0_", "LEADENRICH_SIGNALS"))}
    env.update(extra)
    return env


def message(id_, method, params=None):
    m = {"jsonrpc": "2.0", "method": method}
    if id_ is not None:
        m["id"] = id_
    if params is not None:
        m["params"] = params
    return json.dumps(m)


INITIALIZE = message(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                       "clientInfo": {"name": "pytest", "version": "1"}})


def serve(tmp_path, lines, *flags, env=None):
    return subprocess.run([CLI, "mcp", "--store", str(tmp_path / "mcp.db"), *flags], cwd=tmp_path,
                          env=env or clean_env(), input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=120)


def test_stdout_carries_only_json_rpc_and_a_call_under_way_is_answered_after_stdin_ends(tmp_path):
    # The host writes its requests and closes stdin at once: the enrichment still gets its answer.
    out = serve(tmp_path, [
        INITIALIZE,
        message(None, "notifications/initialized"),
        message(2, "tools/call", {"name": "enrich_lead", "arguments": {"lead_id": "lead_1_0004"}}),
    ], "--sandbox")
    assert out.returncode == 0, out.stderr
    replies = [json.loads(line) for line in out.stdout.splitlines()]  # every line is JSON
    assert [r["id"] for r in replies] == [1, 2]
    assert replies[0]["result"]["protocolVersion"] == "2025-06-18"
    result = replies[1]["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["lead"]["lead_id"] == "lead_1_0004"
    assert "sandbox: serving synthetic Aturiya and pipe0 data at" in out.stderr
    assert "mcp: serving leadenrich's tools on stdin/stdout" in out.stderr


def test_without_aturiya_it_still_enriches_lead_objects_and_says_what_is_missing(tmp_path):
    env = clean_env(PIPE0_API_KEY=SECRET, PIPE0_BASE_URL="http://127.0.0.1:9")  # nothing listens there
    out = serve(tmp_path, [
        INITIALIZE,
        message(2, "tools/call", {"name": "list_campaigns", "arguments": {}}),
        message(3, "tools/call", {"name": "enrich_lead", "arguments": {"lead": {"lead_id": "x-1", "website": "acme.com"}}}),
    ], env=env)
    assert out.returncode == 0, out.stderr
    assert "campaign tools unavailable" in out.stderr
    replies = {r["id"]: r for r in map(json.loads, out.stdout.splitlines())}
    campaigns = replies[2]["result"]
    assert campaigns["isError"] is True
    assert "Aturiya is not configured" in campaigns["content"][0]["text"]
    # pipe0 unreachable: an error result naming pipe0, never the key.
    enriched = replies[3]["result"]
    assert enriched["isError"] is True
    assert enriched["content"][0]["text"].startswith("pipe0 failed: ")
    assert SECRET not in out.stdout and SECRET not in out.stderr


def test_bad_options_are_usage_errors(tmp_path):
    for flags, words in [(["--max-leads", "0"], "--max-leads '0'"),
                         (["--sandbox-latency-ms", "-5"], "--sandbox-latency-ms '-5'"),
                         (["--signals", "weather"], "--signals")]:
        out = serve(tmp_path, [INITIALIZE], "--sandbox", *flags)
        assert out.returncode == 2, (flags, out.stderr)
        assert words in out.stderr
        assert out.stdout == ""


def test_a_host_that_closes_stdout_ends_the_server(tmp_path):
    proc = subprocess.Popen([CLI, "mcp", "--sandbox", "--store", str(tmp_path / "mcp.db")], cwd=tmp_path,
                            env=clean_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    proc.stdin.write(INITIALIZE + "\n")
    proc.stdin.flush()
    # The answer cannot be written: the server says so and exits instead of dying of SIGPIPE.
    assert proc.wait(timeout=60) == 0
    assert "mcp: stdout closed; stopping" in proc.stderr.read()
    proc.stdin.close()
