"""Hostile HTTP/2 peers against the interop server.

Usage: hostile_peers.py REPO_ROOT --binary PATH [--scenario NAME ...] [-v]

Starts PATH --port N on a free port of 127.0.0.1, then runs each scenario below while a
well-behaved grpcio client keeps making UnaryCall requests (every one must succeed) and a
monitor samples the server's VmRSS every 50 ms (it must stay under 100 MB throughout):

  bad_preface          garbage instead of the connection preface -> GOAWAY(PROTOCOL_ERROR), close
  data_on_idle_stream  DATA for a stream never opened -> GOAWAY(PROTOCOL_ERROR|STREAM_CLOSED), close
  huge_length_prefix   a message prefix announcing 2 GiB -> grpc-status 8, at once, no RSS jump
  wrong_content_type   content-type text/plain -> :status 415
  missing_path         HEADERS without :path -> RST_STREAM(PROTOCOL_ERROR)
  rapid_reset          10,000 HEADERS+RST_STREAM(CANCEL) -> keeps up or GOAWAY; RSS bounded
  unread_server_stream 2,000 x 64 KiB responses never read -> flow control bounds RSS

and the scenarios of hostile_limits.py (numbers and sizes at and past their limits, NUL-bearing
strings, header-list inflation, body parking without credentials, connection limits and floods),
some of them against a second interop server started with --jwt-secret-file and small limits.

Every socket targets 127.0.0.1 only and every scenario has its own deadline. Prints one line
per scenario and, last, "N passed, M failed"; exits 1 on any failure. Needs h2 (hyper-h2).
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import hostile_h2 as hh  # noqa: E402
import hostile_limits  # noqa: E402
from interop_protos import load  # noqa: E402

empty_pb2, messages_pb2, test_pb2, test_pb2_grpc = load(sys.argv[1] if len(sys.argv) > 1 else ".")

RSS_LIMIT_KB = 100 * 1024          # the server's RSS must stay under 100 MB at every sample
SCENARIO_TIMEOUT = 30.0            # hard bound on one scenario (each has tighter deadlines inside)
GRPC_OPTIONS = [("grpc.enable_http_proxy", 0)]


Failure, expect = hh.Failure, hh.expect


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class Monitor(threading.Thread):
    """Samples the server's VmRSS every 50 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []            # (monotonic time, kB)
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            kb = read_rss_kb(self.pid)
            if kb is not None:
                with self.lock:
                    self.samples.append((time.monotonic(), kb))
            self.stop.wait(0.05)

    def current(self):
        kb = read_rss_kb(self.pid)
        return kb if kb is not None else 0

    def peak_between(self, start, end):
        """The highest sample taken from start to the first sample after end (so a window
        shorter than the 50 ms sampling period still sees one sample)."""
        with self.lock:
            values = [kb for t, kb in self.samples if start <= t <= end + 0.06]
        return max(values) if values else 0

    def peak(self):
        with self.lock:
            return max((kb for _, kb in self.samples), default=0)


class BackgroundClient(threading.Thread):
    """A well-behaved grpcio client calling UnaryCall (response_size 100) in a loop."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.calls = []              # (start, end, error or None)

    def run(self):
        channel = grpc.insecure_channel("127.0.0.1:%d" % self.port, options=GRPC_OPTIONS)
        stub = test_pb2_grpc.TestServiceStub(channel)
        request = messages_pb2.SimpleRequest(response_size=100)
        while not self.stop.is_set():
            start = time.monotonic()
            error = None
            try:
                response = stub.UnaryCall(request, timeout=5)
                if len(response.payload.body) != 100:
                    error = "payload of %d bytes" % len(response.payload.body)
            except grpc.RpcError as e:
                error = "%s: %s" % (e.code(), e.details())
            except Exception as e:  # noqa: BLE001 - any failure of the call is a failure
                error = repr(e)
            with self.lock:
                self.calls.append((start, time.monotonic(), error))
            self.stop.wait(0.02)
        channel.close()

    def failures_between(self, start, end):
        with self.lock:
            return [(s, e, err) for s, e, err in self.calls if err is not None and e >= start and s <= end]

    def success_after(self, when):
        with self.lock:
            return any(err is None and s >= when for s, _, err in self.calls)

    def totals(self):
        with self.lock:
            ok = sum(1 for _, _, err in self.calls if err is None)
            return ok, len(self.calls) - ok


def unary_on_new_channel(port):
    """A normal UnaryCall on a fresh connection; raises Failure if it does not succeed."""
    channel = grpc.insecure_channel("127.0.0.1:%d" % port, options=GRPC_OPTIONS)
    try:
        stub = test_pb2_grpc.TestServiceStub(channel)
        response = stub.UnaryCall(messages_pb2.SimpleRequest(response_size=100), timeout=5)
        expect(len(response.payload.body) == 100, "health call returned %d bytes" % len(response.payload.body))
    except grpc.RpcError as e:
        raise Failure("UnaryCall on a new connection failed: %s %s" % (e.code(), e.details()))
    finally:
        channel.close()


def describe(frames, limit=12):
    shown = [repr(f) for f in frames[:limit]]
    if len(frames) > limit:
        shown.append("... %d more" % (len(frames) - limit))
    return "[" + ", ".join(shown) + "]"


def raw_handshake(port):
    """A raw connection with the client preface and an empty SETTINGS sent."""
    sock = hh.connect(port)
    sock.sendall(hh.PREFACE + hh.settings_frame())
    return sock, hh.FrameReader(sock)


# --- the scenarios ---------------------------------------------------------------------------

def bad_preface(ctx):
    sock = hh.connect(ctx.port)
    try:
        try:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n" + os.urandom(256))
        except OSError:
            pass  # the server may already have closed; what it sent is still read below
        start = time.monotonic()
        data, closed = hh.read_until_eof(sock, start + 5.0)
        elapsed = time.monotonic() - start
    finally:
        sock.close()
    frames, leftover = hh.parse_frames(data)
    goaways = [f for f in frames if f.kind == hh.GOAWAY]
    expect(goaways, "no GOAWAY; got %d bytes, frames %s, closed=%s" % (len(data), describe(frames), closed))
    expect(goaways[0].error_code == hh.PROTOCOL_ERROR,
           "GOAWAY code %s, expected PROTOCOL_ERROR; frames %s" % (hh.error_name(goaways[0].error_code), describe(frames)))
    expect(closed, "the server did not close the socket within 5 s after GOAWAY; frames %s" % describe(frames))
    expect(not leftover, "%d trailing bytes that are not a whole frame" % len(leftover))
    return "GOAWAY(PROTOCOL_ERROR) and close after %.0f ms; frames %s" % (elapsed * 1000, describe(frames))


def data_on_idle_stream(ctx):
    sock, reader = raw_handshake(ctx.port)
    try:
        reader.read(time.monotonic() + 2.0, lambda f: f.kind == hh.SETTINGS and not f.flags & hh.ACK)
        sock.sendall(hh.frame(hh.DATA, 0, 1, b"hello, stream that never was"))
        start = time.monotonic()
        goaway = reader.read(start + 5.0, lambda f: f.kind == hh.GOAWAY)
        expect(goaway is not None, "no GOAWAY within 5 s; frames %s, closed=%s" % (describe(reader.seen), reader.closed))
        expect(goaway.error_code in (hh.PROTOCOL_ERROR, hh.STREAM_CLOSED),
               "GOAWAY code %s, expected PROTOCOL_ERROR or STREAM_CLOSED" % hh.error_name(goaway.error_code))
        reader.read(start + 5.0)  # on to EOF
        expect(reader.closed, "the socket was not closed within 5 s of the GOAWAY; frames %s" % describe(reader.seen))
        return "%r then close after %.0f ms" % (goaway, (time.monotonic() - start) * 1000)
    finally:
        sock.close()


def huge_length_prefix(ctx):
    client = hh.H2Client(ctx.port)
    try:
        rss_before = ctx.monitor.current()
        client.conn.send_headers(1, hh.grpc_headers(ctx.port))
        client.conn.send_data(1, b"\x00\x80\x00\x00\x00" + b"abcdefgh")  # 2 GiB announced, 8 bytes sent
        client.flush()
        start = time.monotonic()
        client.pump(start + 5.0, lambda: 1 in client.ended or 1 in client.resets or client.goaway is not None)
        elapsed = time.monotonic() - start
        headers = client.all_headers(1)
        expect(headers, "no response on the stream within 5 s (resets %r, goaway %r, closed=%s)"
               % (client.resets, client.goaway, client.closed))
        expect(headers.get("grpc-status") == "8",
               "grpc-status %r (message %r), expected 8 RESOURCE_EXHAUSTED; headers %r"
               % (headers.get("grpc-status"), headers.get("grpc-message"), headers))
        expect(1 in client.ended, "the response did not end the stream (resets %r)" % client.resets)
        peak = ctx.monitor.peak_between(start - 0.1, time.monotonic() + 0.1)
        settled = ctx.monitor.current()
        growth = max(peak, settled) - rss_before
        expect(growth < 20 * 1024, "RSS grew %.1f MB (before %.1f MB, peak %.1f MB)"
               % (growth / 1024, rss_before / 1024, peak / 1024))
        return "grpc-status 8 (%r) after %.0f ms, RSS %+.1f MB" % (headers.get("grpc-message"), elapsed * 1000, growth / 1024)
    finally:
        client.close()


def wrong_content_type(ctx):
    client = hh.H2Client(ctx.port)
    try:
        client.conn.send_headers(1, hh.grpc_headers(ctx.port, content_type="text/plain"))
        client.conn.send_data(1, hh.grpc_message(messages_pb2.SimpleRequest(response_size=1).SerializeToString()),
                              end_stream=True)
        client.flush()
        client.pump(time.monotonic() + 5.0, lambda: 1 in client.headers or 1 in client.resets or client.goaway is not None)
        headers = client.all_headers(1)
        expect(headers, "no response headers within 5 s (resets %r, goaway %r, closed=%s)"
               % (client.resets, client.goaway, client.closed))
        expect(headers.get(":status") == "415", ":status %r, expected 415; headers %r" % (headers.get(":status"), headers))
        return ":status 415 (content-type %r)" % headers.get("content-type")
    finally:
        client.close()


def missing_path(ctx):
    sock, reader = raw_handshake(ctx.port)
    try:
        block = hh.hpack_block(hh.grpc_headers(ctx.port, include_path=False))
        sock.sendall(hh.frame(hh.HEADERS, hh.END_HEADERS | hh.END_STREAM, 1, block))
        start = time.monotonic()
        answer = reader.read(start + 5.0, lambda f: (f.kind == hh.RST_STREAM and f.stream_id == 1)
                             or f.kind == hh.GOAWAY or (f.kind == hh.HEADERS and f.stream_id == 1))
        expect(answer is not None, "no RST_STREAM within 5 s; frames %s, closed=%s" % (describe(reader.seen), reader.closed))
        expect(answer.kind == hh.RST_STREAM or answer.kind == hh.GOAWAY,
               "the server answered the request instead of rejecting it: %r; frames %s" % (answer, describe(reader.seen)))
        expect(answer.error_code == hh.PROTOCOL_ERROR,
               "%r, expected PROTOCOL_ERROR; frames %s" % (answer, describe(reader.seen)))
        return "%r after %.0f ms" % (answer, (time.monotonic() - start) * 1000)
    finally:
        sock.close()


def rapid_reset(ctx):
    count = 10_000
    block = hh.hpack_block(hh.grpc_headers(ctx.port))
    chunks = [hh.PREFACE, hh.settings_frame()]
    for i in range(count):
        stream_id = 2 * i + 1
        chunks.append(hh.frame(hh.HEADERS, hh.END_HEADERS, stream_id, block))
        chunks.append(hh.rst_stream_frame(stream_id, hh.CANCEL))
    payload = b"".join(chunks)

    sock = hh.connect(ctx.port, timeout=15.0)
    reader = hh.FrameReader(sock)
    sent = {"error": None, "done": None}

    def send():
        try:
            sock.sendall(payload)
        except OSError as e:
            sent["error"] = e
        sent["done"] = time.monotonic()

    rss_before = ctx.monitor.current()
    start = time.monotonic()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        # Read until the server closes, or until 1.5 s after the last byte went out (at most 15 s).
        hard = start + 15.0
        while not reader.closed and time.monotonic() < hard:
            done = sent["done"]
            if done is not None and time.monotonic() > done + 1.5:
                break
            reader.read(min(hard, time.monotonic() + 0.25))
        sender.join(timeout=2.0)
    finally:
        sock.close()
    elapsed = time.monotonic() - start
    expect(sent["done"] is not None, "sending %d bytes did not finish within 15 s" % len(payload))
    goaways = [f for f in reader.seen if f.kind == hh.GOAWAY]
    resets = sum(1 for f in reader.seen if f.kind == hh.RST_STREAM)
    time.sleep(0.5)
    peak = max(ctx.monitor.peak_between(start, time.monotonic()), ctx.monitor.current())
    unary_on_new_channel(ctx.port)
    if goaways:
        outcome = "GOAWAY %s (last stream %d) after %.2f s" % (
            hh.error_name(goaways[0].error_code), int.from_bytes(goaways[0].payload[:4], "big") & 0x7FFFFFFF, elapsed)
    else:
        expect(sent["error"] is None, "the connection failed without a GOAWAY: %r; frames %s"
               % (sent["error"], describe(reader.seen)))
        outcome = "kept up with all %d streams in %.2f s" % (count, elapsed)
    return "%s; %d RST_STREAM and %d frames in all from the server; RSS %.1f -> peak %.1f MB; new connection OK" % (
        outcome, resets, len(reader.seen), rss_before / 1024, peak / 1024)


def unread_server_stream(ctx):
    count, size = 2000, 64 * 1024
    client = hh.H2Client(ctx.port, initial_window=16 * 1024)
    try:
        rss_before = ctx.monitor.current()
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=size) for _ in range(count)])
        client.conn.send_headers(1, hh.grpc_headers(ctx.port, path="/grpc.testing.TestService/StreamingOutputCall"))
        client.conn.send_data(1, hh.grpc_message(request.SerializeToString()), end_stream=True)
        client.flush()
        start = time.monotonic()
        time.sleep(2.5)  # never read the socket, never send WINDOW_UPDATE
        held = time.monotonic()
        peak = ctx.monitor.peak_between(start, held)
        growth = peak - rss_before
        # Now read a little to be sure the server really was streaming (not failing the call).
        client.pump(time.monotonic() + 3.0, lambda: len(client.data.get(1, b"")) > 0 or 1 in client.ended
                    or 1 in client.resets or client.closed)
        headers = client.all_headers(1)
        received = len(client.data.get(1, b""))
    finally:
        client.close()
    expect(received > 0, "the server sent no response data (headers %r, resets %r, goaway %r)"
           % (headers, client.resets, client.goaway))
    expect(headers.get("grpc-status") in (None, "0"), "the call failed: %r" % headers)
    expect(growth < 32 * 1024, "RSS grew %.1f MB while %d MB of responses were blocked by flow control "
           "(before %.1f MB, peak %.1f MB)" % (growth / 1024, count * size >> 20, rss_before / 1024, peak / 1024))
    time.sleep(1.0)
    unary_on_new_channel(ctx.port)
    return "RSS %.1f -> peak %.1f MB (%+.1f MB) while blocked for %.1f s; then healthy on a new connection" % (
        rss_before / 1024, peak / 1024, growth / 1024, held - start)


SCENARIOS = [
    ("bad_preface", bad_preface),
    ("data_on_idle_stream", data_on_idle_stream),
    ("huge_length_prefix", huge_length_prefix),
    ("wrong_content_type", wrong_content_type),
    ("missing_path", missing_path),
    ("rapid_reset", rapid_reset),
    ("unread_server_stream", unread_server_stream),
] + hostile_limits.SCENARIOS


class Context:
    def __init__(self, port, process, monitor, background, auth):
        self.port, self.process, self.monitor, self.background = port, process, monitor, background
        self.auth_port, self.auth_process, self.auth_monitor = auth
        self.messages = messages_pb2


def run_scenario(ctx, name, function):
    """Runs one scenario under a hard timeout, then checks the server's RSS, liveness and the
    background client over the scenario's time. Returns (ok, text)."""
    result = {}

    def target():
        try:
            result["detail"] = function(ctx)
        except Failure as e:
            result["error"] = str(e)
        except Exception as e:  # noqa: BLE001 - report, don't crash the suite
            result["error"] = "%s\n%s" % (repr(e), traceback.format_exc())

    start = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(SCENARIO_TIMEOUT)
    problems = []
    if thread.is_alive():
        problems.append("did not finish within %.0f s" % SCENARIO_TIMEOUT)
    elif "error" in result:
        problems.append(result["error"])
    # The background client must succeed again after the scenario (within 6 s).
    end = time.monotonic()
    wait_until = end + 6.0
    while not ctx.background.success_after(end) and time.monotonic() < wait_until and ctx.process.poll() is None:
        time.sleep(0.05)
    checked = time.monotonic()
    if ctx.auth_process.poll() is not None:
        problems.append("the authenticated server exited with status %s" % ctx.auth_process.returncode)
    auth_peak = ctx.auth_monitor.peak_between(start, checked)
    if auth_peak >= RSS_LIMIT_KB:
        problems.append("the authenticated server's RSS reached %.1f MB" % (auth_peak / 1024))
    if ctx.process.poll() is not None:
        problems.append("the server exited with status %s" % ctx.process.returncode)
    elif not ctx.background.success_after(end):
        problems.append("the background client had no successful call within 6 s after the scenario")
    failures = ctx.background.failures_between(start, checked)
    if failures:
        problems.append("the background client failed %d call(s), first: %s" % (len(failures), failures[0][2]))
    peak = ctx.monitor.peak_between(start, checked)
    if peak >= RSS_LIMIT_KB:
        problems.append("server RSS reached %.1f MB (limit %d MB)" % (peak / 1024, RSS_LIMIT_KB // 1024))
    if problems:
        return False, "; ".join(problems)
    return True, "%s [peak RSS %.1f MB]" % (result.get("detail", ""), peak / 1024)


def wait_for_port(port, process, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo_root")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--scenario", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="add what was observed to PASS lines")
    args = parser.parse_args()

    selected = [(n, f) for n, f in SCENARIOS if not args.scenario or n in args.scenario]
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="hostile-peers-server-", suffix=".log", delete=False)
    process = subprocess.Popen([args.binary, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    # The second server: every TestService call needs a token; small connection limits.
    secret = tempfile.NamedTemporaryFile("w", prefix="hostile-peers-secret-", delete=False)
    secret.write("hostile-peers-secret-of-at-least-32-bytes\n")
    secret.close()
    auth_port = free_port()
    auth_process = subprocess.Popen(
        [args.binary, "--port", str(auth_port), "--jwt-secret-file", secret.name] + hostile_limits.AUTH_SERVER_LIMITS,
        stdout=log, stderr=subprocess.STDOUT)
    passed = failed = 0
    monitor = background = auth_monitor = None
    try:
        if not wait_for_port(auth_port, auth_process):
            print("FAIL auth_server_start: %s --jwt-secret-file did not listen (exit status %s)"
                  % (args.binary, auth_process.poll()))
            print("%d passed, %d failed" % (passed, len(selected)))
            return 1
        auth_monitor = Monitor(auth_process.pid)
        auth_monitor.start()
        if not wait_for_port(port, process):
            print("FAIL server_start: %s did not listen on 127.0.0.1:%d (exit status %s)"
                  % (args.binary, port, process.poll()))
            failed = len(selected)
            print("%d passed, %d failed" % (passed, failed))
            return 1
        monitor = Monitor(process.pid)
        monitor.start()
        background = BackgroundClient(port)
        background.start()
        # Let the background client get going before the first scenario.
        t0 = time.monotonic()
        while not background.success_after(t0 - 1) and time.monotonic() < t0 + 10:
            time.sleep(0.05)
        ctx = Context(port, process, monitor, background, (auth_port, auth_process, auth_monitor))
        for name, function in selected:
            if process.poll() is not None:
                print("FAIL %s: the server is not running (exit status %s)" % (name, process.returncode))
                failed += 1
                continue
            ok, text = run_scenario(ctx, name, function)
            if ok:
                passed += 1
                print("PASS %s: %s" % (name, text) if args.verbose else "PASS %s" % name)
            else:
                failed += 1
                print("FAIL %s: %s" % (name, text))
            sys.stdout.flush()
        background.stop.set()
        background.join(timeout=10)
        ok_calls, bad_calls = background.totals()
        if args.verbose:
            print("background client: %d calls succeeded, %d failed; server peak RSS %.1f MB"
                  % (ok_calls, bad_calls, monitor.peak() / 1024))
        if bad_calls and failed == 0:
            # Every failed call lies in some scenario's window unless it fell between them.
            print("FAIL background_client: %d call(s) failed between scenarios" % bad_calls)
            failed += 1
    finally:
        if background is not None:
            background.stop.set()
        if monitor is not None:
            monitor.stop.set()
        if auth_monitor is not None:
            auth_monitor.stop.set()
        for child in (process, auth_process):
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait(timeout=5)
        os.unlink(secret.name)
        log.close()
        if failed:
            with open(log.name, errors="replace") as f:
                tail = f.read()[-2000:]
            if tail.strip():
                print("server output (tail):\n" + tail.rstrip())
        os.unlink(log.name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
