"""`leadenrich sandbox` and `leadenrich-sandbox` run the sandbox the same way: the base URL on the
first line, then the six variables that point clients at it, served until SIGTERM; a port that is
taken is one error line and exit 3."""
import json
import os
import signal
import socket
import subprocess
import urllib.request

import pytest

from test_cli import CLI, SANDBOX, clean_env

PROGRAMS = {
    "leadenrich sandbox": [CLI, "sandbox"],
    "leadenrich-sandbox": [SANDBOX, "-q"],
}
VARIABLES = ["PIPE0_BASE_URL", "ATURIYA_BASE_URL", "PIPE0_API_KEY", "ATURIYA_BEARER_TOKEN",
             "ATURIYA_USER_ID", "ATURIYA_AGENT_ID"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_prints_where_it_listens_serves_both_apis_and_stops_on_sigterm(name, tmp_path):
    proc = subprocess.Popen([*PROGRAMS[name], "--port", "0", "--seed", "7"], cwd=tmp_path, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        variables = dict(proc.stdout.readline().strip().split("=", 1) for _ in VARIABLES)
        assert sorted(variables) == sorted(VARIABLES)
        assert variables["PIPE0_BASE_URL"] == url and variables["ATURIYA_BASE_URL"] == url
        # Aturiya through the printed credentials, then pipe0's balance with the printed key.
        me = urllib.request.Request(url + "/users/auth/me",
                                    headers={"Authorization": "Bearer " + variables["ATURIYA_BEARER_TOKEN"]})
        with urllib.request.urlopen(me, timeout=10) as r:
            assert json.load(r)["data"]["user_id"] == variables["ATURIYA_USER_ID"]
        balance = urllib.request.Request(url + "/v1/credit-balance",
                                         headers={"Authorization": "Bearer " + variables["PIPE0_API_KEY"]})
        with urllib.request.urlopen(balance, timeout=10) as r:
            assert "balance" in json.load(r)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_port_in_use_is_one_error_naming_it_and_exit_3(name, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = subprocess.run([*PROGRAMS[name], "--port", str(port)], cwd=tmp_path, env=clean_env(),
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 3
    assert r.stdout == ""
    assert f"127.0.0.1:{port}" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
