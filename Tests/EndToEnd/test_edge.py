"""The edge from outside: the public HTTP/JSON API and its Server-Sent Events, with independent
clients (``requests`` for JSON and SSE, ``http.client`` and raw sockets for what a good client
never sends), against the platform ``scripts/platform up`` starts (the edge included).

Covers: signing in (bearer and browser session with cookies and CSRF), reading and creating
through JSON, a message's run streamed as SSE (event names, ids, the saved answer last),
re-attaching with Last-Event-ID, errors as JSON with the standard statuses, bad input (malformed
JSON, wrong types, unknown fields, invalid UTF-8, bodies over the limit, bad paths), and that the
edge keeps serving afterwards.
"""

import json
import socket
import unittest
import urllib.parse
import uuid

import requests

import platform_fixture

TIMEOUT = 60


def sse_events(response):
    """The events of a text/event-stream response, as dicts (event, id, data parsed as JSON)."""
    event = {}
    for raw in response.iter_lines(decode_unicode=True):
        if raw is None:
            continue
        line = raw
        if line == "":
            if event:
                if "data" in event:
                    event["data"] = json.loads(event["data"])
                yield event
                event = {}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data" and "data" in event:
            event["data"] += "\n" + value
        else:
            event[field] = value
    if event:
        if "data" in event:
            event["data"] = json.loads(event["data"])
        yield event


class EdgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.base = cls.platform.env["AGENTPLANE_EDGE_URL"]
        login = requests.post(
            cls.base + "/v1/auth/login",
            json={"tenantSlug": cls.platform.tenant, "email": cls.platform.email, "password": cls.platform.password},
            timeout=TIMEOUT,
        )
        assert login.status_code == 200, login.text
        cls.login_body = login.json()
        cls.token = cls.login_body["tokens"]["accessToken"]
        cls.auth = {"Authorization": f"Bearer {cls.token}"}

    def url(self, path):
        return self.base + path

    def agent_id(self):
        listed = requests.get(self.url("/v1/agents"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(listed.status_code, 200, listed.text)
        agents = {a["name"]: a for a in listed.json()["agents"]}
        self.assertIn("support-agent", agents)
        return agents["support-agent"]["id"]

    def test_login_and_reads_in_json(self):
        body = self.login_body
        self.assertTrue(body["tokens"]["refreshToken"])
        # proto3 JSON: lowerCamelCase names, enums by name, timestamps in RFC 3339.
        self.assertRegex(body["tokens"]["accessTokenExpiresAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        agent_id = self.agent_id()
        got = requests.get(self.url(f"/v1/agents/{agent_id}"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(got.status_code, 200, got.text)
        self.assertEqual(got.headers["content-type"], "application/json")
        self.assertEqual(got.json()["agent"]["id"], agent_id)
        who = requests.get(self.url("/v1/auth/whoami"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(who.status_code, 200, who.text)
        self.assertEqual(who.json()["principalKind"], "PRINCIPAL_KIND_USER")

    def test_every_response_carries_a_request_id(self):
        # Adopted from the client (as the services do), echoed on success and on errors alike.
        mine = "edge-test-" + uuid.uuid4().hex[:12]
        traced = requests.get(
            self.url("/v1/agents"),
            headers=dict(self.auth, **{"X-Request-Id": mine,
                                       "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}),
            timeout=TIMEOUT,
        )
        self.assertEqual(traced.status_code, 200)
        self.assertEqual(traced.headers["x-request-id"], mine)
        missing = requests.get(self.url("/v1/no-such-route"), headers={"X-Request-Id": mine}, timeout=TIMEOUT)
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(missing.headers["x-request-id"], mine)
        # Made when absent or unacceptable; a different one per request.
        first = requests.get(self.url("/v1/agents"), headers=self.auth, timeout=TIMEOUT).headers["x-request-id"]
        second = requests.get(
            self.url("/v1/agents"), headers=dict(self.auth, **{"X-Request-Id": "bad id\u00e9" * 30}), timeout=TIMEOUT
        ).headers["x-request-id"]
        self.assertTrue(first and second)
        self.assertNotEqual(first, second)
        self.assertNotIn(" ", second)

    def test_a_message_streams_as_server_sent_events(self):
        agent_id = self.agent_id()
        created = requests.post(
            self.url("/v1/conversations"), headers=self.auth, json={"agentId": agent_id}, timeout=TIMEOUT
        )
        self.assertEqual(created.status_code, 200, created.text)
        conversation = created.json()["conversation"]["id"]
        with requests.post(
            self.url(f"/v1/conversations/{conversation}/messages"),
            headers=self.auth,
            json={"content": "How do I reset my password?"},
            stream=True,
            timeout=TIMEOUT,
        ) as response:
            self.assertEqual(response.status_code, 200)
            self.assertTrue(response.headers["content-type"].startswith("text/event-stream"))
            events = list(sse_events(response))
        names = [e["event"] for e in events]
        self.assertEqual(names[0], "userMessage")
        self.assertEqual(names[-1], "assistantMessage")
        self.assertTrue(all(n == "event" for n in names[1:-1]), names)
        run_events = [e for e in events if e["event"] == "event"]
        sequences = [int(e["id"]) for e in run_events]
        self.assertEqual(sequences, list(range(1, len(sequences) + 1)))
        # 64-bit integers travel as strings; the id is the event's sequence.
        self.assertEqual([e["data"]["event"]["sequence"] for e in run_events], [str(s) for s in sequences])
        self.assertIn("runFinished", run_events[-1]["data"]["event"])
        self.assertIn("password", events[-1]["data"]["assistantMessage"]["content"].lower())

    def test_a_client_that_lost_the_stream_resumes_with_last_event_id(self):
        agent_id = self.agent_id()
        conversation = requests.post(
            self.url("/v1/conversations"), headers=self.auth, json={"agentId": agent_id}, timeout=TIMEOUT
        ).json()["conversation"]["id"]
        seen = []
        with requests.post(
            self.url(f"/v1/conversations/{conversation}/messages"),
            headers=self.auth,
            json={"content": "How do I reset my password?"},
            stream=True,
            timeout=TIMEOUT,
        ) as response:
            self.assertEqual(response.status_code, 200)
            for event in sse_events(response):
                if event["event"] == "event":
                    seen.append(int(event["id"]))
                if len(seen) == 2:
                    break  # the connection closes here, mid-run
        self.assertEqual(seen, [1, 2])
        resumed = []
        with requests.get(
            self.url(f"/v1/conversations/{conversation}/events"),
            headers=dict(self.auth, **{"Last-Event-ID": str(seen[-1])}),
            stream=True,
            timeout=TIMEOUT,
        ) as response:
            self.assertEqual(response.status_code, 200, response.text)
            resumed = list(sse_events(response))
        run_events = [e for e in resumed if e["event"] == "event"]
        ids = [int(e["id"]) for e in run_events]
        # Every remaining event once, in order, then the saved answer.
        self.assertEqual(ids, list(range(3, 3 + len(ids))), ids)
        self.assertIn("runFinished", run_events[-1]["data"]["event"])
        self.assertEqual(resumed[-1]["event"], "assistantMessage")
        # From the start (no Last-Event-ID): the whole run again, from sequence 1.
        with requests.get(
            self.url(f"/v1/conversations/{conversation}/events"), headers=self.auth, stream=True, timeout=TIMEOUT
        ) as response:
            again = [int(e["id"]) for e in sse_events(response) if e["event"] == "event"]
        self.assertEqual(again, list(range(1, 3 + len(ids))))
        bad = requests.get(
            self.url(f"/v1/conversations/{conversation}/events"),
            headers=dict(self.auth, **{"Last-Event-ID": "-1"}),
            timeout=TIMEOUT,
        )
        self.assertEqual(bad.status_code, 400)

    def test_errors_are_json_with_the_standard_status(self):
        missing = requests.get(self.url(f"/v1/agents/{uuid.uuid4()}"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(missing.status_code, 404, missing.text)
        self.assertEqual(missing.json()["code"], "NOT_FOUND")
        unauthenticated = requests.get(self.url("/v1/agents"), timeout=TIMEOUT)
        self.assertEqual(unauthenticated.status_code, 401)
        self.assertEqual(unauthenticated.json()["code"], "UNAUTHENTICATED")
        bad_token = requests.get(self.url("/v1/agents"), headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT)
        self.assertEqual(bad_token.status_code, 401)
        no_route = requests.get(self.url("/v1/no/such/thing"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(no_route.status_code, 404)
        self.assertEqual(no_route.json()["code"], "NOT_FOUND")
        wrong_method = requests.delete(self.url("/v1/auth/login"), timeout=TIMEOUT)
        self.assertEqual(wrong_method.status_code, 405)
        self.assertIn("POST", wrong_method.headers["allow"])
        # A service's structured details come along in proto3 JSON.
        invalid = requests.post(self.url("/v1/conversations"), headers=self.auth, json={}, timeout=TIMEOUT)
        self.assertEqual(invalid.status_code, 400, invalid.text)
        self.assertEqual(invalid.json()["code"], "INVALID_ARGUMENT")

    def test_bad_input_is_a_clear_4xx_and_the_edge_keeps_serving(self):
        headers = dict(self.auth, **{"Content-Type": "application/json"})
        cases = {
            "malformed JSON": b'{"agentId": ',
            "trailing garbage": b'{"agentId": "x"} x',
            "a wrong type": b'{"agentId": 5}',
            "an unknown field": b'{"agentId": "x", "nope": 1}',
            "invalid UTF-8": b'{"agentId": "\xff\xfe"}',
            "not an object": b"[1, 2]",
            "a duplicate key": b'{"agentId": "a", "agentId": "b"}',
        }
        for name, body in cases.items():
            with self.subTest(name):
                response = requests.post(self.url("/v1/conversations"), headers=headers, data=body, timeout=TIMEOUT)
                self.assertEqual(response.status_code, 400, f"{name}: {response.text}")
                self.assertEqual(response.json()["code"], "INVALID_ARGUMENT")
                self.assertTrue(response.json()["message"])
        too_big = requests.post(
            self.url("/v1/conversations"), headers=headers, data=b'{"title": "' + b"a" * (1 << 20) + b'"}', timeout=TIMEOUT
        )
        self.assertEqual(too_big.status_code, 413)
        wrong_type = requests.post(
            self.url("/v1/conversations"), headers=dict(self.auth, **{"Content-Type": "text/plain"}), data=b"{}",
            timeout=TIMEOUT,
        )
        self.assertEqual(wrong_type.status_code, 415)
        bad_query = requests.get(self.url("/v1/agents?pageSize=abc"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(bad_query.status_code, 400, bad_query.text)
        unknown_query = requests.get(self.url("/v1/agents?nope=1"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(unknown_query.status_code, 400, unknown_query.text)
        bad_escape = requests.get(self.url("/v1/agents/%ff"), headers=self.auth, timeout=TIMEOUT)
        self.assertIn(bad_escape.status_code, (400, 404))
        # Raw garbage on the socket: a 400, and the connection closes.
        host, port = urllib.parse.urlsplit(self.base).hostname, urllib.parse.urlsplit(self.base).port
        with socket.create_connection((host, port), timeout=10) as raw:
            raw.sendall(b"\x16\x03\x01 definitely not HTTP\r\n\r\n")
            reply = raw.recv(4096)
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply[:100])
        # Still serving.
        self.assertEqual(requests.get(self.url("/v1/agents"), headers=self.auth, timeout=TIMEOUT).status_code, 200)

    def test_browser_session_with_cookies_and_csrf(self):
        session = requests.Session()
        login = session.post(
            self.url("/v1/auth/login?session=true"),
            json={"tenantSlug": self.platform.tenant, "email": self.platform.email, "password": self.platform.password},
            timeout=TIMEOUT,
        )
        self.assertEqual(login.status_code, 200, login.text)
        body = login.json()
        self.assertNotIn("accessToken", body["tokens"])
        self.assertNotIn("refreshToken", body["tokens"])
        csrf = body["csrfToken"]
        cookies = login.headers.get("set-cookie", "")
        self.assertIn("agentplane_access=", cookies)
        self.assertIn("HttpOnly", cookies)
        self.assertIn("SameSite=Strict", cookies)
        self.assertEqual(session.cookies.get("agentplane_csrf"), csrf)
        # Safe methods with the cookie alone.
        self.assertEqual(session.get(self.url("/v1/agents"), timeout=TIMEOUT).status_code, 200)
        agent_id = self.agent_id()
        # Unsafe ones need the CSRF token echoed.
        without = session.post(self.url("/v1/conversations"), json={"agentId": agent_id}, timeout=TIMEOUT)
        self.assertEqual(without.status_code, 403, without.text)
        wrong = session.post(
            self.url("/v1/conversations"), json={"agentId": agent_id}, headers={"X-CSRF-Token": csrf[:-2] + "xx"},
            timeout=TIMEOUT,
        )
        self.assertEqual(wrong.status_code, 403)
        right = session.post(
            self.url("/v1/conversations"), json={"agentId": agent_id}, headers={"X-CSRF-Token": csrf}, timeout=TIMEOUT
        )
        self.assertEqual(right.status_code, 200, right.text)
        # Refresh from the cookie rotates the tokens and the CSRF token.
        refreshed = session.post(self.url("/v1/auth/refresh"), json={}, headers={"X-CSRF-Token": csrf}, timeout=TIMEOUT)
        self.assertEqual(refreshed.status_code, 200, refreshed.text)
        new_csrf = refreshed.json()["csrfToken"]
        self.assertNotEqual(new_csrf, csrf)
        self.assertNotIn("refreshToken", refreshed.json()["tokens"])
        # Without the cookie (nor a token in the body) there is no session to refresh: 401 as JSON.
        bare = requests.post(self.url("/v1/auth/refresh"), json={}, timeout=TIMEOUT)
        self.assertEqual(bare.status_code, 401, bare.text)
        self.assertEqual(bare.json()["code"], "UNAUTHENTICATED")
        self.assertEqual(session.get(self.url("/v1/agents"), timeout=TIMEOUT).status_code, 200)
        # An expired or forged cookie: 401 as JSON.
        forged = requests.get(self.url("/v1/agents"), cookies={"agentplane_access": "x.y.z"}, timeout=TIMEOUT)
        self.assertEqual(forged.status_code, 401)
        self.assertEqual(forged.json()["code"], "UNAUTHENTICATED")
        # Logout clears the cookies.
        out = session.post(self.url("/v1/auth/logout"), json={}, headers={"X-CSRF-Token": new_csrf}, timeout=TIMEOUT)
        self.assertEqual(out.status_code, 200, out.text)
        self.assertIn("Max-Age=0", out.headers.get("set-cookie", ""))
        self.assertEqual(session.get(self.url("/v1/agents"), timeout=TIMEOUT).status_code, 401)

    def test_documents_upload_raw_and_multipart_and_download(self):
        content = ("# Edge upload\n\nUploaded through the edge " + uuid.uuid4().hex + ".\n").encode() * 2000
        name = f"edge-{uuid.uuid4().hex[:8]}.md"
        raw = requests.post(
            self.url(f"/v1/documents?name={name}&tags=edge&skip_indexing=true"),
            headers=dict(self.auth, **{"Content-Type": "text/markdown"}),
            data=content,
            timeout=TIMEOUT,
        )
        self.assertEqual(raw.status_code, 200, raw.text)
        document = raw.json()["document"]
        self.assertEqual(document["name"], name)
        self.assertEqual(document["contentType"], "text/markdown")
        self.assertEqual(int(document["sizeBytes"]), len(content))
        self.assertEqual(document["tags"], ["edge"])
        download = requests.get(self.url(f"/v1/documents/{document['id']}/content"), headers=self.auth, timeout=TIMEOUT)
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download.content, content)
        self.assertEqual(download.headers["content-type"], "text/markdown")
        self.assertIn(f'filename="{name}"', download.headers["content-disposition"])
        # multipart/form-data: fields, then the file; its file name names the document.
        multi_name = f"multi-{uuid.uuid4().hex[:8]}.txt"
        multi = requests.post(
            self.url("/v1/documents"),
            headers=self.auth,
            data={"tags": "multi", "skip_indexing": "true"},
            files={"file": (multi_name, content, "text/plain")},
            timeout=TIMEOUT,
        )
        self.assertEqual(multi.status_code, 200, multi.text)
        self.assertEqual(multi.json()["document"]["name"], multi_name)
        self.assertEqual(multi.json()["document"]["contentType"], "text/plain")
        again = requests.get(
            self.url(f"/v1/documents/{multi.json()['document']['id']}/content"), headers=self.auth, timeout=TIMEOUT
        )
        self.assertEqual(again.content, content)
        # No name anywhere, no file part, a broken body: 400.
        nameless = requests.post(self.url("/v1/documents"), headers=self.auth, data=content, timeout=TIMEOUT)
        self.assertEqual(nameless.status_code, 400)
        no_file = requests.post(
            self.url("/v1/documents"), headers=self.auth, files={"name": (None, "x.txt")}, timeout=TIMEOUT
        )
        self.assertEqual(no_file.status_code, 400, no_file.text)
        broken = requests.post(
            self.url("/v1/documents"),
            headers=dict(self.auth, **{"Content-Type": "multipart/form-data; boundary=zz"}),
            data=b"--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nunterminated",
            timeout=TIMEOUT,
        )
        self.assertEqual(broken.status_code, 400, broken.text)

    def test_openapi_document_is_served(self):
        document = requests.get(self.url("/openapi.json"), timeout=TIMEOUT)
        self.assertEqual(document.status_code, 200)
        spec = document.json()
        self.assertTrue(spec["openapi"].startswith("3.1"))
        self.assertIn("/v1/auth/login", spec["paths"])

    def test_console_root_says_how_to_build_it_or_serves_it(self):
        root = requests.get(self.url("/"), timeout=TIMEOUT)
        self.assertEqual(root.status_code, 200)
        traversal = requests.get(self.url("/..%2f..%2fetc/passwd"), timeout=TIMEOUT)
        self.assertIn(traversal.status_code, (200, 404))
        self.assertNotIn("root:", traversal.text)


if __name__ == "__main__":
    unittest.main()
