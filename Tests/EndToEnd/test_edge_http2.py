"""The edge over TLS: ALPN picks HTTP/2 (RPCHTTP2's nghttp2 layer serving plain HTTP requests)
or HTTP/1.1, against the services of the platform ``scripts/platform up`` starts.

A second edge process is started here with ``TLS_CERT_FILE`` / ``TLS_KEY_FILE`` (a self-signed
certificate made with openssl) and small limits, forwarding to the fixture platform's services.
Clients: ``httpx`` with ``http2=True`` (the ``h2`` package) for requests, and ``h2`` itself on a
raw TLS socket for what a good client never sends (a body that never comes, a header list over
the limit). Covers: ALPN, JSON and errors, streams multiplexed on one connection, SSE, uploads
larger than a flow-control window, the limits, the handshake timeout, bad TLS configuration,
and a graceful drain.
"""

import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import uuid
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import httpx

import platform_fixture
from test_edge import sse_events

TIMEOUT = 60
REQUEST_TIMEOUT_S = 2
MAX_STREAMS = 8
MAX_BODY = 64 << 10


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(folder):
    cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


class TLSEdge:
    """An edge process with TLS, forwarding to the fixture platform's services."""

    def __init__(self, platform, folder, **extra):
        self.cert, self.key = make_certificate(folder)
        self.port, self.admin_port = free_port(), free_port()
        self.binary = Path(platform.env["AGENTCTL"]).parent / "edge"
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGE_")}
        env.update(
            PORT=str(self.port), ADMIN_PORT=str(self.admin_port), HOST="127.0.0.1",
            JWT_SECRET_FILE=str(platform.home / "secrets" / "jwt"),
            TLS_CERT_FILE=str(self.cert), TLS_KEY_FILE=str(self.key),
            EDGE_REQUEST_TIMEOUT=f"{REQUEST_TIMEOUT_S}s", EDGE_MAX_STREAMS_PER_CONNECTION=str(MAX_STREAMS),
            EDGE_MAX_BODY_BYTES=str(MAX_BODY), EDGE_MAX_HEADER_BYTES="8192", LOG_LEVEL="warning",
            WEB_ROOT=str(Path(folder) / "no-console"))
        for key in ("CONTROL_ADDR", "EXECUTION_ADDR", "KB_SEARCH_ADDR", "TICKETING_ADDR", "LLM_GATEWAY_ADDR",
                    "NOTIFICATION_ADDR"):
            env[key] = platform.env[key]
        env.update(extra)
        self.log = open(Path(folder) / "edge.log", "w+")
        self.process = subprocess.Popen([str(self.binary)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"http://127.0.0.1:{self.admin_port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("the TLS edge did not become ready:\n" + self.output())

    @property
    def base(self):
        return f"https://127.0.0.1:{self.port}"

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def client(self, http2=True, **kwargs):
        return httpx.Client(http2=http2, verify=self.verify(), timeout=TIMEOUT, **kwargs)

    def verify(self):
        return ssl.create_default_context(cafile=str(self.cert))

    def raw_h2(self):
        """An h2 connection on a TLS socket: (socket, connection), the preface and SETTINGS exchanged."""
        context = ssl.create_default_context(cafile=str(self.cert))
        context.set_alpn_protocols(["h2"])
        sock = context.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=10),
                                   server_hostname="127.0.0.1")
        assert sock.selected_alpn_protocol() == "h2"
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        connection.initiate_connection()
        sock.sendall(connection.data_to_send())
        return sock, connection

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def read_events(sock, connection, until, timeout=15):
    """Reads h2 events until `until(events)` holds or the time is up; returns every event."""
    seen = []
    deadline = time.monotonic() + timeout
    while not until(seen) and time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        seen += connection.receive_data(data)
        sock.sendall(connection.data_to_send())
    return seen


class EdgeHTTP2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.folder = tempfile.mkdtemp(prefix="edge-tls-")
        cls.edge = TLSEdge(cls.platform, cls.folder)
        with cls.edge.client() as client:
            login = client.post(
                cls.edge.base + "/v1/auth/login",
                json={"tenantSlug": cls.platform.tenant, "email": cls.platform.email,
                      "password": cls.platform.password})
        assert login.status_code == 200, login.text
        assert login.http_version == "HTTP/2", login.http_version
        cls.auth = {"Authorization": "Bearer " + login.json()["tokens"]["accessToken"]}

    @classmethod
    def tearDownClass(cls):
        cls.edge.stop()

    def url(self, path):
        return self.edge.base + path

    def agent_id(self, client):
        listed = client.get(self.url("/v1/agents"), headers=self.auth)
        self.assertEqual(listed.status_code, 200, listed.text)
        return {a["name"]: a["id"] for a in listed.json()["agents"]}["support-agent"]

    def test_alpn_picks_h2_and_http11_still_works(self):
        with self.edge.client() as client:
            response = client.get(self.url("/v1/auth/whoami"), headers=self.auth)
            self.assertEqual(response.http_version, "HTTP/2")
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(response.json()["principalKind"], "PRINCIPAL_KIND_USER")
            # HTTP/2 forbids connection-specific fields; security headers are there.
            self.assertNotIn("connection", response.headers)
            self.assertEqual(response.headers["x-content-type-options"], "nosniff")
        with self.edge.client(http2=False) as client:
            response = client.get(self.url("/v1/auth/whoami"), headers=self.auth)
            self.assertEqual(response.http_version, "HTTP/1.1")
            self.assertEqual(response.status_code, 200, response.text)
        # Cleartext HTTP on the TLS port is not served.
        with socket.create_connection(("127.0.0.1", self.edge.port), timeout=10) as sock:
            sock.sendall(b"GET /v1/auth/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = b""
            try:
                while chunk := sock.recv(4096):
                    reply += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            self.assertNotIn(b"HTTP/1.1 200", reply)

    def test_json_errors_and_limits_over_h2(self):
        with self.edge.client() as client:
            agent_id = self.agent_id(client)
            got = client.get(self.url(f"/v1/agents/{agent_id}"), headers=self.auth)
            self.assertEqual(got.json()["agent"]["id"], agent_id)
            missing = client.get(self.url(f"/v1/agents/{uuid.uuid4()}"), headers=self.auth)
            self.assertEqual(missing.status_code, 404)
            self.assertEqual(missing.json()["code"], "NOT_FOUND")
            malformed = client.post(
                self.url("/v1/conversations"), headers=dict(self.auth, **{"content-type": "application/json"}),
                content=b"{\"agentId\": ")
            self.assertEqual(malformed.status_code, 400)
            self.assertEqual(malformed.json()["code"], "INVALID_ARGUMENT")
            unknown = client.post(self.url("/v1/conversations"), headers=self.auth, json={"agentId": agent_id, "x": 1})
            self.assertEqual(unknown.status_code, 400)
            at_limit = client.post(
                self.url("/v1/kb/search"), headers=self.auth,
                content=json.dumps({"query": "q" * (MAX_BODY - 20)}).encode()[:MAX_BODY])
            self.assertNotEqual(at_limit.status_code, 413)
            over = client.post(
                self.url("/v1/kb/search"), headers=self.auth, content=b"{\"query\": \"" + b"q" * MAX_BODY + b"\"}")
            self.assertEqual(over.status_code, 413)
            self.assertEqual(over.json()["code"], "RESOURCE_EXHAUSTED")
            # The same connection still serves.
            self.assertEqual(client.get(self.url("/v1/agents"), headers=self.auth).status_code, 200)

    def test_streams_are_multiplexed_on_one_connection(self):
        async def run():
            async with httpx.AsyncClient(http2=True, verify=self.edge.verify(), timeout=TIMEOUT) as client:
                responses = await asyncio.gather(
                    *[client.get(self.url("/v1/agents"), headers=self.auth) for _ in range(40)])
                return [(r.status_code, r.http_version) for r in responses]
        results = asyncio.run(run())
        self.assertEqual(results, [(200, "HTTP/2")] * 40)

    def test_a_message_streams_as_sse_over_h2_and_session_cookies_are_secure(self):
        with self.edge.client() as client:
            login = client.post(
                self.url("/v1/auth/login?session=true"),
                json={"tenantSlug": self.platform.tenant, "email": self.platform.email,
                      "password": self.platform.password})
            self.assertEqual(login.status_code, 200, login.text)
            cookies = login.headers.get_list("set-cookie")
            self.assertTrue(any(c.startswith("agentplane_access=") and "; Secure" in c for c in cookies), cookies)
            csrf = login.json()["csrfToken"]
            agent_id = self.agent_id(client)
            created = client.post(
                self.url("/v1/conversations"), json={"agentId": agent_id}, headers={"X-CSRF-Token": csrf})
            self.assertEqual(created.status_code, 200, created.text)
            conversation = created.json()["conversation"]["id"]
            with client.stream(
                "POST", self.url(f"/v1/conversations/{conversation}/messages"),
                json={"content": "How do I reset my password?"}, headers={"X-CSRF-Token": csrf},
            ) as response:
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.http_version, "HTTP/2")

                class Lines:
                    def iter_lines(self, decode_unicode=True):
                        return response.iter_lines()

                events = list(sse_events(Lines()))
        names = [e["event"] for e in events]
        self.assertEqual(names[0], "userMessage")
        self.assertEqual(names[-1], "assistantMessage")
        sequences = [int(e["id"]) for e in events if e["event"] == "event"]
        self.assertEqual(sequences, list(range(1, len(sequences) + 1)))
        self.assertIn("password", events[-1]["data"]["assistantMessage"]["content"].lower())

    def test_an_upload_larger_than_a_window_and_its_download(self):
        # 3 MiB: three times the stream's flow-control window, so credit must flow back.
        content = (b"# h2 upload\n\n" + uuid.uuid4().hex.encode() + b"\n") * ((3 << 20) // 46 + 1)
        content = content[: 3 << 20]
        name = f"h2-{uuid.uuid4().hex[:8]}.md"
        with self.edge.client() as client:
            uploaded = client.post(
                self.url(f"/v1/documents?name={name}&skip_indexing=true"),
                headers=dict(self.auth, **{"content-type": "text/markdown"}), content=content)
            self.assertEqual(uploaded.status_code, 200, uploaded.text)
            self.assertEqual(uploaded.http_version, "HTTP/2")
            document = uploaded.json()["document"]
            self.assertEqual(int(document["sizeBytes"]), len(content))
            download = client.get(self.url(f"/v1/documents/{document['id']}/content"), headers=self.auth)
            self.assertEqual(download.status_code, 200)
            self.assertEqual(download.content, content)
            self.assertIn(f'filename="{name}"', download.headers["content-disposition"])

    def test_settings_a_late_body_and_a_header_list_over_the_limit(self):
        sock, connection = self.edge.raw_h2()
        try:
            events = read_events(sock, connection, lambda seen: any(
                isinstance(e, h2.events.RemoteSettingsChanged) for e in seen))
            self.assertEqual(connection.remote_settings.max_concurrent_streams, MAX_STREAMS)
            # Headers, then a body that never comes: 408 after EDGE_REQUEST_TIMEOUT.
            started = time.monotonic()
            connection.send_headers(1, [
                (":method", "POST"), (":path", "/v1/kb/search"), (":scheme", "https"),
                (":authority", "127.0.0.1"), ("authorization", self.auth["Authorization"]),
                ("content-type", "application/json")])
            sock.sendall(connection.data_to_send())
            events = read_events(sock, connection, lambda seen: any(
                isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)) and e.stream_id == 1 for e in seen))
            elapsed = time.monotonic() - started
            heads = [e for e in events if isinstance(e, h2.events.ResponseReceived) and e.stream_id == 1]
            self.assertTrue(heads, events)
            self.assertEqual(dict(heads[0].headers)[b":status"], b"408")
            self.assertGreaterEqual(elapsed, REQUEST_TIMEOUT_S - 0.5)
            # A header list over EDGE_MAX_HEADER_BYTES: the stream is reset, the connection lives.
            connection.send_headers(3, [
                (":method", "GET"), (":path", "/v1/agents"), (":scheme", "https"), (":authority", "127.0.0.1"),
                ("x-big", "b" * 9000)], end_stream=True)
            sock.sendall(connection.data_to_send())
            events = read_events(sock, connection, lambda seen: any(
                getattr(e, "stream_id", None) == 3 and isinstance(e, (h2.events.StreamReset, h2.events.StreamEnded))
                for e in seen))
            self.assertTrue(any(isinstance(e, h2.events.StreamReset) and e.stream_id == 3 for e in events), events)
            connection.send_headers(5, [
                (":method", "GET"), (":path", "/v1/agents"), (":scheme", "https"), (":authority", "127.0.0.1"),
                ("authorization", self.auth["Authorization"])], end_stream=True)
            sock.sendall(connection.data_to_send())
            events = read_events(sock, connection, lambda seen: any(
                isinstance(e, h2.events.StreamEnded) and e.stream_id == 5 for e in seen))
            heads = [e for e in events if isinstance(e, h2.events.ResponseReceived) and e.stream_id == 5]
            self.assertEqual(dict(heads[0].headers)[b":status"], b"200")
        finally:
            sock.close()

    def test_a_client_that_never_finishes_its_handshake_is_cut_off(self):
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.edge.port), timeout=REQUEST_TIMEOUT_S + 10) as sock:
            try:
                self.assertEqual(sock.recv(1), b"")
            except ConnectionResetError:
                pass
        self.assertLess(time.monotonic() - started, REQUEST_TIMEOUT_S + 5)
        with self.edge.client() as client:
            self.assertEqual(client.get(self.url("/v1/agents"), headers=self.auth).status_code, 200)

    def test_bad_tls_configuration_is_refused_at_start(self):
        binary = Path(self.platform.env["AGENTCTL"]).parent / "edge"
        base = dict(os.environ, PORT="0", ADMIN_PORT="0", JWT_SECRET_FILE=str(self.platform.home / "secrets" / "jwt"))
        half = subprocess.run([str(binary)], env=dict(base, TLS_CERT_FILE=str(self.edge.cert)),
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(half.returncode, 2, half.stderr)
        self.assertIn("TLS_KEY_FILE", half.stderr)
        missing = subprocess.run(
            [str(binary)], env=dict(base, TLS_CERT_FILE=str(self.edge.cert), TLS_KEY_FILE="/nonexistent/key.pem"),
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("TLS_KEY_FILE", missing.stderr)

    def test_graceful_drain_with_open_h2_connections(self):
        folder = tempfile.mkdtemp(prefix="edge-tls-drain-")
        edge = TLSEdge(self.platform, folder)
        try:
            client = edge.client()
            self.assertEqual(client.get(edge.base + "/v1/agents", headers=self.auth).status_code, 200)
            started = time.monotonic()
            edge.process.send_signal(signal.SIGTERM)
            self.assertEqual(edge.process.wait(20), 0, edge.output())
            self.assertLess(time.monotonic() - started, 8)
            client.close()
        finally:
            edge.stop()


if __name__ == "__main__":
    unittest.main()
