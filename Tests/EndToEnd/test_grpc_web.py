"""gRPC-Web through the edge, with independent clients: the ``sonora`` PyPI package's client
(application/grpc-web+proto; in a virtualenv of its own, since it pins urllib3<2) and a small
framing client here for application/grpc-web-text (base64), against the platform that
``scripts/platform up`` starts.
"""

import base64
import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

import requests

import platform_fixture

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("AGENTPLANE_GRPC_WEB_VENV", platform_fixture.REPO / ".data" / "venvs" / "grpc-web"))


def venv_python():
    """The virtualenv's Python, made on first use with sonora and the same protobuf/grpcio as ours."""
    python = VENV / "bin" / "python"
    import google.protobuf
    import grpc

    wanted = [f"sonora==0.2.3", f"protobuf=={google.protobuf.__version__}", f"grpcio=={grpc.__version__}"]
    marker = VENV / "agentplane-requirements.txt"
    if not python.exists() or not marker.exists() or marker.read_text() != "\n".join(wanted):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted], check=True
        )
        marker.write_text("\n".join(wanted))
    return python


def frame(payload: bytes, flags: int = 0) -> bytes:
    return bytes([flags]) + len(payload).to_bytes(4, "big") + payload


def unframe(body: bytes):
    """The frames of a gRPC-Web body: (flags, payload) pairs."""
    frames = []
    while body:
        flags, length = body[0], int.from_bytes(body[1:5], "big")
        frames.append((flags, body[5 : 5 + length]))
        body = body[5 + length :]
    return frames


def trailers(payload: bytes) -> dict:
    lines = payload.decode().split("\r\n")
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}


class GRPCWebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.pb = platform_fixture.stubs()
        cls.base = cls.platform.env["AGENTPLANE_EDGE_URL"]
        cls.token = cls.platform.login()

    def test_sonora_client_unary_errors_and_a_server_stream(self):
        stubs_dir = Path(self.pb.control_pb2.__file__).parents[2]
        result = subprocess.run(
            [
                str(venv_python()), str(HERE / "grpc_web_client.py"), self.base, str(stubs_dir), self.platform.tenant,
                self.platform.email, self.platform.password,
            ],
            capture_output=True, text=True, timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        report = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertEqual(report["login_user"], self.platform.email)
        self.assertIn("support-agent", report["agents"])
        self.assertEqual(report["missing"], "NOT_FOUND")
        self.assertEqual(report["anonymous"], "UNAUTHENTICATED")
        kinds = [kind for kind, _ in report["items"]]
        self.assertEqual(kinds[0], "user_message")
        self.assertEqual(kinds[-1], "assistant_message")
        sequences = [seq for kind, seq in report["items"] if kind == "event"]
        self.assertEqual(sequences, list(range(1, len(sequences) + 1)))
        self.assertIn("password", report["answer"].lower())

    def call_text(self, path, message: bytes, headers=None):
        body = base64.b64encode(frame(message))
        response = requests.post(
            self.base + path,
            data=body,
            headers={
                "content-type": "application/grpc-web-text",
                "x-grpc-web": "1",
                "authorization": f"Bearer {self.token}",
                **(headers or {}),
            },
            timeout=60,
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["content-type"].startswith("application/grpc-web-text"))
        return response

    def decode_text(self, body: bytes) -> bytes:
        # Each write is a padded base64 chunk of its own: decode chunk by chunk, splitting where
        # a chunk's padding ends it (or at the end).
        out = b""
        rest = body
        while rest:
            # Find the shortest prefix that is a whole base64 chunk ending a frame.
            for end in range(4, len(rest) + 1, 4):
                piece = rest[:end]
                if piece.endswith(b"=") or end == len(rest):
                    try:
                        decoded = base64.b64decode(piece, validate=True)
                    except Exception:
                        continue
                    out += decoded
                    rest = rest[end:]
                    break
            else:
                self.fail("the body is not base64 chunks")
        return out

    def test_text_mode_framing_client(self):
        pb = self.pb
        request = pb.control_pb2.ListAgentsRequest().SerializeToString()
        response = self.call_text("/agentplane.v1.AgentService/ListAgents", request)
        frames = unframe(self.decode_text(response.content))
        self.assertEqual([flags for flags, _ in frames], [0, 0x80])
        listed = pb.control_pb2.ListAgentsResponse.FromString(frames[0][1])
        self.assertIn("support-agent", [a.name for a in listed.agents])
        self.assertEqual(trailers(frames[1][1])["grpc-status"], "0")
        # An error before any message: trailers-only, the status in the headers.
        missing = self.call_text(
            "/agentplane.v1.AgentService/GetAgent",
            pb.control_pb2.GetAgentRequest(agent_id="00000000-0000-0000-0000-000000000000").SerializeToString(),
        )
        self.assertEqual(missing.headers["grpc-status"], "5")
        # A method the HTTP rules do not expose (service tokens only) is not served.
        internal = self.call_text("/agentplane.v1.ConversationService/AppendMessage", b"")
        self.assertEqual(internal.headers["grpc-status"], "12")
        # Two frames where one is expected, and a truncated frame: INVALID_ARGUMENT.
        for bad in (frame(request) + frame(request), frame(b"abc")[:-1]):
            reply = requests.post(
                self.base + "/agentplane.v1.AgentService/ListAgents",
                data=base64.b64encode(bad),
                headers={"content-type": "application/grpc-web-text", "authorization": f"Bearer {self.token}"},
                timeout=60,
            )
            self.assertEqual(reply.headers["grpc-status"], "3")
        # Not base64 at all.
        reply = requests.post(
            self.base + "/agentplane.v1.AgentService/ListAgents",
            data=b"!!!!",
            headers={"content-type": "application/grpc-web-text", "authorization": f"Bearer {self.token}"},
            timeout=60,
        )
        self.assertEqual(reply.headers["grpc-status"], "3")


if __name__ == "__main__":
    unittest.main()
