"""leadenrich doctor never prints the user:password part of a configured URL."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_cli import SECRET, clean_env, run  # noqa: E402


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_doctor_masks_credentials_in_urls(tmp_path):
    port = closed_port()
    env = clean_env(PIPE0_API_KEY=SECRET, ATURIYA_BEARER_TOKEN=SECRET, ATURIYA_USER_ID="user_1",
                    ATURIYA_AGENT_ID="agent_" + "a" * 32,
                    PIPE0_BASE_URL=f"http://pipe-user:pipe-pass-42@127.0.0.1:{port}/v1",
                    ATURIYA_BASE_URL=f"https://aturiya-user:aturiya-pass-42@127.0.0.1:{port}")
    d = run(["doctor"], tmp_path, env=env)
    out = d.stdout + d.stderr
    assert "pipe-pass-42" not in out and "aturiya-pass-42" not in out, out
    assert "pipe-user" not in out and "aturiya-user" not in out, out
    assert f"PIPE0_BASE_URL=http://***@127.0.0.1:{port}/v1" in d.stdout, out
    assert f"ATURIYA_BASE_URL=https://***@127.0.0.1:{port}" in d.stdout, out
    assert SECRET not in out
