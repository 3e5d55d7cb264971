"""Hostile-peer scenarios on the server's limits, run by hostile_peers.py.

Each takes the suite's Context (ctx.port: the interop server with default limits and no auth;
ctx.auth_port: a second one with the JWT interceptor and small connection limits, see
AUTH_SERVER_LIMITS) and returns a line saying what it saw, or raises Failure.

  grpc_timeout_limits     grpc-timeout at its largest valid value (8 digits of hours) is served;
                          9 digits, a sign or an unknown unit -> grpc-status 13, never a crash
  status_message_bound    a handler status message of 1,024 encoded bytes is sent whole; 64 KiB
                          (ASCII and multi-byte) is cut to <= 1,024 bytes ending in "..." and
                          stays valid percent-encoded UTF-8; the call is answered at once
  long_path               an unknown 8 KiB :path -> UNIMPLEMENTED whose message quotes a short prefix
  header_list_at_limit    a request header list of exactly 16,384 bytes (HTTP/2's count) is served;
                          16,385 -> the stream is reset, the connection lives on
  header_list_inflation   HPACK dynamic-table references expanding 9 KB into 1.6 MB of headers ->
                          RST_STREAM as soon as the running size passes the limit; RSS flat
  nul_strings             strings with an embedded NUL (health check "\\0anything", a status
                          message) -> INVALID_ARGUMENT, not a silently cut string
  body_parking            300 streams without credentials, each with a partial 1 MiB message, on
                          the authenticated server -> every one refused with UNAUTHENTICATED at
                          once (their bodies are never buffered); RSS flat
  connection_limit        the authenticated server's 16 connections are served; the 17th gets
                          GOAWAY(ENHANCE_YOUR_CALM) and is closed; afterwards new ones work
  idle_connections        a connection with no call, and one that never sends the preface, are
                          closed after the idle timeout (2 s); one with an open call is not
  concurrent_streams      the authenticated server's 400 concurrent calls on one connection are
                          served; a 401st is refused (nghttp2: GOAWAY PROTOCOL_ERROR, as RFC 9113
                          allows once the setting was acknowledged); the server serves on
  connection_flood        400 connections (half never send a byte) held open while the good
                          client keeps calling; all served or closed cleanly, RSS bounded
"""
import socket
import time
import urllib.parse

import grpc

import hostile_h2 as hh

# The second server's limits (interop-server flags).
AUTH_SERVER_LIMITS = ["--max-connections", "16", "--idle-timeout", "2", "--max-concurrent-streams", "400"]
HEADER_LIST_LIMIT = 16384          # GRPC_MAX_HEADER_LIST_BYTES' default
STATUS_MESSAGE_LIMIT = 1024        # GRPC_MAX_STATUS_MESSAGE_BYTES' default


Failure, expect = hh.Failure, hh.expect


def _ready_client(port):
    """An h2 client that has the server's SETTINGS and window updates, so it may send at once."""
    client = hh.H2Client(port, validate=False)
    client.pump(time.monotonic() + 3.0, lambda: client.conn.outbound_flow_control_window > 65535)
    return client


def _call(port, headers, body, deadline_s=5.0, stream_id=1, client=None):
    """One call on a fresh (or given) h2 connection; returns (merged headers, client)."""
    own = client is None
    client = client or _ready_client(port)
    try:
        client.conn.send_headers(stream_id, headers)
        for start in range(0, len(body), 16384):
            client.conn.send_data(stream_id, body[start:start + 16384], end_stream=start + 16384 >= len(body))
        client.flush()
        client.pump(time.monotonic() + deadline_s,
                    lambda: stream_id in client.ended or stream_id in client.resets or client.goaway is not None)
        return client.all_headers(stream_id), client
    finally:
        if own:
            client.close()


def _unary_body(ctx, **fields):
    return hh.grpc_message(ctx.messages.SimpleRequest(**fields).SerializeToString())


def grpc_timeout_limits(ctx):
    seen = []
    for value, expected in [("99999999H", "0"), ("99999999M", "0"), ("99999999n", "0"), ("1n", None),
                            ("100000000H", "13"), ("-1S", "13"), ("5X", "13"), ("S", "13")]:
        headers = hh.grpc_headers(ctx.port) + [("grpc-timeout", value)]
        answer, _ = _call(ctx.port, headers, _unary_body(ctx, response_size=10))
        status = answer.get("grpc-status")
        expect(status is not None, "grpc-timeout %r: no grpc-status (headers %r)" % (value, answer))
        if expected is None:
            expect(status in ("0", "4"), "grpc-timeout %r: grpc-status %r, expected 0 or 4" % (value, status))
        else:
            expect(status == expected, "grpc-timeout %r: grpc-status %r (%r), expected %s"
                   % (value, status, answer.get("grpc-message"), expected))
        seen.append("%s->%s" % (value, status))
    return ", ".join(seen)


def _status_call(ctx, message):
    status = ctx.messages.EchoStatus(code=2, message=message)
    start = time.monotonic()
    answer, _ = _call(ctx.port, hh.grpc_headers(ctx.port), _unary_body(ctx, response_status=status))
    return answer, time.monotonic() - start


def _valid_encoding(text):
    """Whether text is valid percent-encoding of valid UTF-8."""
    index = 0
    raw = text.encode("ascii")
    while index < len(raw):
        if raw[index] == 0x25:
            if index + 2 >= len(raw) or not all(chr(c) in "0123456789ABCDEFabcdef" for c in raw[index + 1:index + 3]):
                return False
            index += 3
        else:
            index += 1
    try:
        urllib.parse.unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def status_message_bound(ctx):
    at_limit = "m" * STATUS_MESSAGE_LIMIT
    answer, _ = _status_call(ctx, at_limit)
    expect(answer.get("grpc-status") == "2", "at the limit: grpc-status %r" % answer.get("grpc-status"))
    expect(answer.get("grpc-message") == at_limit, "a message of exactly %d bytes was changed (%d bytes)"
           % (STATUS_MESSAGE_LIMIT, len(answer.get("grpc-message", ""))))
    details = []
    for label, message in [("ascii", "a" * 65536), ("multi-byte", "é€😀" * 8000), ("percent", "%" * 40000)]:
        answer, elapsed = _status_call(ctx, message)
        text = answer.get("grpc-message")
        expect(answer.get("grpc-status") == "2", "%s: grpc-status %r (headers %r)"
               % (label, answer.get("grpc-status"), list(answer)[:6]))
        expect(text is not None and len(text) <= STATUS_MESSAGE_LIMIT,
               "%s: grpc-message of %s bytes" % (label, None if text is None else len(text)))
        expect(text.endswith("..."), "%s: a cut message does not end in '...': %r" % (label, text[-20:]))
        expect(_valid_encoding(text), "%s: not valid percent-encoded UTF-8: %r" % (label, text[-30:]))
        expect(elapsed < 2.0, "%s: answered after %.1f s" % (label, elapsed))
        details.append("%s %d B" % (label, len(text)))
    return "1024 B kept; " + ", ".join(details)


def long_path(ctx):
    path = "/grpc.testing.TestService/" + "x" * 8192
    answer, _ = _call(ctx.port, hh.grpc_headers(ctx.port, path=path), _unary_body(ctx))
    expect(answer.get("grpc-status") == "12", "grpc-status %r, expected 12 UNIMPLEMENTED" % answer.get("grpc-status"))
    message = answer.get("grpc-message", "")
    expect(len(message) <= 200, "the message repeats %d bytes of the path" % len(message))
    return "UNIMPLEMENTED, message %r" % message[:90]


def _padded_headers(ctx, total):
    headers = hh.grpc_headers(ctx.port)
    base = hh.header_list_size(headers + [("x-pad", "")])
    return headers + [("x-pad", "p" * (total - base))]


def header_list_at_limit(ctx):
    client = _ready_client(ctx.port)
    try:
        at = _padded_headers(ctx, HEADER_LIST_LIMIT)
        expect(hh.header_list_size(at) == HEADER_LIST_LIMIT, "bad padding")
        answer, _ = _call(ctx.port, at, _unary_body(ctx, response_size=10), client=client, stream_id=1)
        expect(answer.get("grpc-status") == "0", "a header list of exactly %d bytes: grpc-status %r, resets %r"
               % (HEADER_LIST_LIMIT, answer.get("grpc-status"), client.resets))
        past = _padded_headers(ctx, HEADER_LIST_LIMIT + 1)
        answer, _ = _call(ctx.port, past, _unary_body(ctx, response_size=10), client=client, stream_id=3)
        expect(3 in client.resets or answer.get("grpc-status") == "8",
               "a header list of %d bytes was served: %r" % (HEADER_LIST_LIMIT + 1, answer))
        expect(client.goaway is None, "the connection was closed: %r" % client.goaway)
        answer, _ = _call(ctx.port, hh.grpc_headers(ctx.port), _unary_body(ctx, response_size=10), client=client,
                          stream_id=5)
        expect(answer.get("grpc-status") == "0", "the next call on the connection failed: %r" % answer)
        outcome = ("RST_STREAM %s" % hh.error_name(client.resets[3])) if 3 in client.resets else "grpc-status 8"
        return "16384 B served; 16385 B -> %s; the connection serves on" % outcome
    finally:
        client.close()


def header_list_inflation(ctx):
    sock, reader = hh.connect(ctx.port), None
    try:
        sock.sendall(hh.PREFACE + hh.settings_frame())
        reader = hh.FrameReader(sock)
        value = b"a" * 4000
        # Literal with incremental indexing (new name): the entry becomes dynamic index 62.
        entry = b"\x40" + bytes([6]) + b"x-bomb" + bytes([0x7F]) + _hpack_length_rest(len(value)) + value
        block = hh.hpack_block(hh.grpc_headers(ctx.port)) + entry + b"\xbe" * 400
        decoded = 400 * (6 + len(value) + 32)
        rss_before = ctx.monitor.current()
        start = time.monotonic()
        sock.sendall(hh.headers_frames(1, block, end_stream=True))
        answer = reader.read(start + 5.0, lambda f: f.stream_id == 1 and f.kind in (hh.RST_STREAM, hh.HEADERS)
                             or f.kind == hh.GOAWAY)
        expect(answer is not None, "no answer within 5 s; frames %r" % reader.seen[:8])
        expect(answer.kind == hh.RST_STREAM, "expected RST_STREAM on stream 1, got %r" % answer)
        growth = max(ctx.monitor.peak_between(start - 0.1, time.monotonic() + 0.1), ctx.monitor.current()) - rss_before
        expect(growth < 20 * 1024, "RSS grew %.1f MB" % (growth / 1024))
        return "%d B of header block (%.1f MB decoded) -> %r after %.0f ms, RSS %+.1f MB" % (
            len(block), decoded / 1e6, answer, (time.monotonic() - start) * 1000, growth / 1024)
    finally:
        sock.close()


def _hpack_length_rest(value):
    """The continuation bytes of an HPACK integer with a 7-bit prefix that is all ones."""
    value -= 127
    out = bytearray()
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def nul_strings(ctx):
    # grpc.health.v1.HealthCheckRequest { service = 1 }
    service = b"\x00anything"
    body = hh.grpc_message(b"\x0a" + bytes([len(service)]) + service)
    answer, _ = _call(ctx.port, hh.grpc_headers(ctx.port, path="/grpc.health.v1.Health/Check"), body)
    expect(answer.get("grpc-status") == "3", "health check for '\\0anything': grpc-status %r (%r), expected 3"
           % (answer.get("grpc-status"), answer.get("grpc-message")))
    status = ctx.messages.EchoStatus(code=2, message="abc\x00def")
    answer, _ = _call(ctx.port, hh.grpc_headers(ctx.port), _unary_body(ctx, response_status=status))
    expect(answer.get("grpc-status") == "3", "a status message with a NUL: grpc-status %r (%r), expected 3"
           % (answer.get("grpc-status"), answer.get("grpc-message")))
    return "INVALID_ARGUMENT both (%r)" % answer.get("grpc-message", "")[:80]


def body_parking(ctx):
    count = 300
    client = _ready_client(ctx.auth_port)
    try:
        rss_before = ctx.auth_monitor.current()
        partial = b"\x00\x00\x10\x00\x00" + b"z" * 16000   # 1 MiB announced, 16 kB sent, never ended
        start = time.monotonic()
        for index in range(count):
            stream_id = 2 * index + 1
            client.conn.send_headers(stream_id, hh.grpc_headers(ctx.auth_port))
            client.conn.send_data(stream_id, partial)
            client.flush()
        ids = [2 * i + 1 for i in range(count)]
        client.pump(start + 10.0, lambda: all(i in client.headers for i in ids) or client.goaway is not None)
        elapsed = time.monotonic() - start
        statuses = [client.all_headers(i).get("grpc-status") for i in ids]
        answered = sum(1 for s in statuses if s is not None)
        expect(answered == count, "%d of %d calls answered within 10 s (goaway %r)" % (answered, count, client.goaway))
        expect(all(s == "16" for s in statuses), "statuses %r, expected all 16" % sorted(set(statuses)))
        growth = max(ctx.auth_monitor.peak_between(start, time.monotonic()), ctx.auth_monitor.current()) - rss_before
        expect(growth < 30 * 1024, "RSS grew %.1f MB" % (growth / 1024))
        return "%d x UNAUTHENTICATED in %.0f ms, RSS %+.1f MB" % (count, elapsed * 1000, growth / 1024)
    finally:
        client.close()


def _authenticated_health(port):
    channel = grpc.insecure_channel("127.0.0.1:%d" % port, options=[("grpc.enable_http_proxy", 0)])
    try:
        grpc.channel_ready_future(channel).result(timeout=5)
        return True
    except grpc.FutureTimeoutError:
        return False
    finally:
        channel.close()


def _open_connection(port):
    sock = hh.connect(port)
    sock.sendall(hh.PREFACE + hh.settings_frame())
    reader = hh.FrameReader(sock)
    first = reader.read(time.monotonic() + 3.0, lambda f: f.kind in (hh.SETTINGS, hh.GOAWAY))
    return sock, reader, first


def _goaway(reader, deadline):
    """The first GOAWAY the reader has seen or sees before the deadline."""
    for f in reader.seen:
        if f.kind == hh.GOAWAY:
            return f
    return reader.read(deadline, lambda f: f.kind == hh.GOAWAY)


def connection_limit(ctx):
    held = []
    try:
        # Earlier scenarios' connections may still be closing: wait until a probe is served.
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            sock, reader, first = _open_connection(ctx.auth_port)
            served = first is not None and first.kind == hh.SETTINGS and not _goaway(reader, time.monotonic() + 0.2)
            sock.close()
            if served:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        for index in range(16):
            sock, reader, first = _open_connection(ctx.auth_port)
            held.append(sock)
            expect(first is not None and first.kind == hh.SETTINGS,
                   "connection %d of 16 was not served: %r" % (index + 1, first))
            goaway = _goaway(reader, time.monotonic() + 0.1)
            expect(goaway is None, "connection %d of 16 got %r" % (index + 1, goaway))
        sock, reader, _ = _open_connection(ctx.auth_port)
        held.append(sock)
        goaway = _goaway(reader, time.monotonic() + 3.0)
        expect(goaway is not None, "the 17th connection got no GOAWAY: %r" % reader.seen[:5])
        expect(goaway.error_code == hh.ENHANCE_YOUR_CALM, "the 17th connection got %r" % goaway)
        reader.read(time.monotonic() + 3.0)
        expect(reader.closed, "the 17th connection was not closed")
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not _authenticated_health(ctx.auth_port):
        time.sleep(0.1)
    expect(_authenticated_health(ctx.auth_port), "no new connection was served after the 16 closed")
    return "16 served, the 17th got GOAWAY(ENHANCE_YOUR_CALM) and was closed; new ones served after"


def idle_connections(ctx):
    start = time.monotonic()
    quiet, quiet_reader, first = _open_connection(ctx.auth_port)
    silent = hh.connect(ctx.auth_port)   # never sends the preface
    busy = _ready_client(ctx.auth_port)
    try:
        busy.conn.send_headers(1, hh.grpc_headers(ctx.auth_port, path="/grpc.health.v1.Health/Watch"))
        busy.conn.send_data(1, hh.grpc_message(b""), end_stream=True)
        busy.flush()
        expect(first is not None and first.kind == hh.SETTINGS, "the quiet connection was not served: %r" % first)
        early = quiet_reader.read(start + 1.0, lambda f: f.kind == hh.GOAWAY)
        expect(early is None and not quiet_reader.closed, "closed before the idle timeout: %r" % early)
        goaway = quiet_reader.read(start + 6.0, lambda f: f.kind == hh.GOAWAY)
        expect(goaway is not None and goaway.error_code == hh.NO_ERROR, "the idle connection got %r" % goaway)
        quiet_reader.read(start + 6.0)
        expect(quiet_reader.closed, "the idle connection was not closed")
        closed_after = time.monotonic() - start
        _, silent_closed = hh.read_until_eof(silent, start + 6.0)
        expect(silent_closed, "a connection that never sent the preface stayed open for 6 s")
        busy.pump(time.monotonic() + 0.5, lambda: busy.closed or busy.goaway is not None)
        expect(not busy.closed and busy.goaway is None, "the connection with an open call was closed")
        return "idle closed after %.1f s (GOAWAY NO_ERROR), silent closed, busy kept" % closed_after
    finally:
        quiet.close()
        silent.close()
        busy.close()


def concurrent_streams(ctx):
    limit = 400
    client = _ready_client(ctx.auth_port)
    watch = hh.grpc_headers(ctx.auth_port, path="/grpc.health.v1.Health/Watch")
    try:
        served = [2 * i + 1 for i in range(limit)]
        for stream_id in served:
            client.conn.send_headers(stream_id, watch)
            client.conn.send_data(stream_id, hh.grpc_message(b""), end_stream=True)
        client.flush()
        client.pump(time.monotonic() + 10.0, lambda: all(i in client.headers for i in served) or client.closed)
        answered = sum(i in client.headers for i in served)
        expect(answered == limit, "%d of %d calls within the limit answered" % (answered, limit))
        expect(not any(i in client.resets for i in served), "a call within the limit was reset: %r" % client.resets)
        # One past the limit, as raw frames (h2 itself would not exceed the peer's setting).
        past = 2 * limit + 1
        client.send_raw(hh.headers_frames(past, hh.hpack_block(watch), end_stream=False))
        reader = hh.FrameReader(client.sock)
        refused = reader.read(time.monotonic() + 5.0, lambda f: (f.stream_id == past and f.kind == hh.RST_STREAM)
                              or f.kind == hh.GOAWAY)
        expect(refused is not None, "the call past the limit was not refused; frames %r" % reader.seen[-5:])
        expect(refused.kind == hh.RST_STREAM or refused.error_code == hh.PROTOCOL_ERROR,
               "the call past the limit got %r" % refused)
    finally:
        client.close()
    expect(_authenticated_health(ctx.auth_port), "the server did not serve a new connection afterwards")
    return "%d served, the %dth: %r" % (limit, limit + 1, refused)


def connection_flood(ctx):
    count = 400
    socks = []
    rss_before = ctx.monitor.current()
    start = time.monotonic()
    try:
        for index in range(count):
            try:
                sock = socket.create_connection(("127.0.0.1", ctx.port), timeout=5)
            except OSError as e:
                raise Failure("connection %d failed: %r" % (index + 1, e))
            if index % 2 == 0:
                sock.sendall(hh.PREFACE + hh.settings_frame())
            socks.append(sock)
        time.sleep(1.0)
        peak = max(ctx.monitor.peak_between(start, time.monotonic()), ctx.monitor.current())
        expect(ctx.background.success_after(start + 0.5), "the good client had no successful call during the flood")
    finally:
        for sock in socks:
            sock.close()
    return "%d connections held, RSS %.1f -> %.1f MB" % (count, rss_before / 1024, peak / 1024)


SCENARIOS = [
    ("grpc_timeout_limits", grpc_timeout_limits),
    ("status_message_bound", status_message_bound),
    ("long_path", long_path),
    ("header_list_at_limit", header_list_at_limit),
    ("header_list_inflation", header_list_inflation),
    ("nul_strings", nul_strings),
    ("body_parking", body_parking),
    ("connection_limit", connection_limit),
    ("idle_connections", idle_connections),
    ("concurrent_streams", concurrent_streams),
    ("connection_flood", connection_flood),
]
