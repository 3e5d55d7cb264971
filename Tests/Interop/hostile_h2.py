"""Low-level HTTP/2 helpers for hostile_peers.py: raw frames, HPACK without a dynamic table,
socket reading with deadlines, and a small wrapper around hyper-h2's client connection.

Every socket here connects to 127.0.0.1 only.
"""
import select
import socket
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FRAME_NAMES = {
    DATA: "DATA", HEADERS: "HEADERS", PRIORITY: "PRIORITY", RST_STREAM: "RST_STREAM", SETTINGS: "SETTINGS",
    PUSH_PROMISE: "PUSH_PROMISE", PING: "PING", GOAWAY: "GOAWAY", WINDOW_UPDATE: "WINDOW_UPDATE",
    CONTINUATION: "CONTINUATION",
}
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4

ERROR_NAMES = {
    0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR", 4: "SETTINGS_TIMEOUT",
    5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL", 9: "COMPRESSION_ERROR",
    10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM", 12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED",
}
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, STREAM_CLOSED, REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM = 0, 1, 2, 5, 7, 8, 11

SETTINGS_INITIAL_WINDOW_SIZE = 0x4


class Failure(Exception):
    """A scenario's expectation did not hold."""


def expect(condition, message):
    if not condition:
        raise Failure(message)


def error_name(code):
    return ERROR_NAMES.get(code, "0x%x" % code)


def frame(kind, flags, stream_id, payload=b""):
    """One raw frame: 9-byte header then the payload."""
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream_id & 0x7FFFFFFF) + payload


def settings_frame(pairs=()):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def rst_stream_frame(stream_id, code):
    return frame(RST_STREAM, 0, stream_id, struct.pack(">I", code))


def headers_frames(stream_id, block, end_stream=False, max_frame=16384):
    """A header block as HEADERS plus CONTINUATION frames of at most max_frame bytes each."""
    pieces = [block[i:i + max_frame] for i in range(0, len(block), max_frame)] or [b""]
    out = bytearray()
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        flags = (END_HEADERS if last else 0)
        if index == 0:
            out += frame(HEADERS, flags | (END_STREAM if end_stream else 0), stream_id, piece)
        else:
            out += frame(CONTINUATION, flags, stream_id, piece)
    return bytes(out)


def header_list_size(headers):
    """The size HTTP/2 counts for a header list: name + value + 32 bytes per field."""
    return sum(len(n.encode() if isinstance(n, str) else n) + len(v.encode() if isinstance(v, str) else v) + 32
               for n, v in headers)


class Frame:
    def __init__(self, kind, flags, stream_id, payload):
        self.kind, self.flags, self.stream_id, self.payload = kind, flags, stream_id, payload

    @property
    def error_code(self):
        """The error code of a GOAWAY or RST_STREAM."""
        if self.kind == GOAWAY and len(self.payload) >= 8:
            return struct.unpack(">I", self.payload[4:8])[0]
        if self.kind == RST_STREAM and len(self.payload) >= 4:
            return struct.unpack(">I", self.payload[:4])[0]
        return None

    @property
    def debug_data(self):
        return self.payload[8:] if self.kind == GOAWAY else b""

    def __repr__(self):
        name = FRAME_NAMES.get(self.kind, "0x%x" % self.kind)
        extra = ""
        if self.error_code is not None:
            extra = " " + error_name(self.error_code)
            if self.debug_data:
                extra += " %r" % self.debug_data[:80]
        return "%s(stream=%d flags=0x%x len=%d%s)" % (name, self.stream_id, self.flags, len(self.payload), extra)


def parse_frames(buffer):
    """Splits bytes into complete frames; returns (frames, leftover bytes)."""
    frames, offset = [], 0
    while len(buffer) - offset >= 9:
        length = int.from_bytes(buffer[offset:offset + 3], "big")
        if len(buffer) - offset < 9 + length:
            break
        kind, flags, stream_id = struct.unpack(">BBI", buffer[offset + 3:offset + 9])
        frames.append(Frame(kind, flags, stream_id & 0x7FFFFFFF, bytes(buffer[offset + 9:offset + 9 + length])))
        offset += 9 + length
    return frames, bytes(buffer[offset:])


def connect(port, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_some(sock, deadline):
    """One recv that waits at most until the deadline, without touching the socket's timeout
    (so another thread may be sending on it). Returns bytes, b"" at EOF, or None on timeout."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    readable, _, _ = select.select([sock], [], [], min(remaining, 0.5))
    if not readable:
        return None
    try:
        return sock.recv(65536)
    except (BlockingIOError, InterruptedError, socket.timeout):
        return None
    except (ConnectionResetError, BrokenPipeError):
        return b""


def read_until_eof(sock, deadline):
    """Reads until the peer closes (or resets) the socket or the deadline passes.
    Returns (bytes, closed: bool)."""
    data = bytearray()
    while time.monotonic() < deadline:
        chunk = recv_some(sock, deadline)
        if chunk is None:
            continue
        if not chunk:
            return bytes(data), True
        data += chunk
    return bytes(data), False


class FrameReader:
    """Reads raw frames off a socket with deadlines, keeping all it has seen."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""
        self.seen = []
        self.closed = False

    def read(self, deadline, until=None):
        """Reads frames until until(frame) is true for one (returned), EOF, or the deadline (None)."""
        while True:
            frames, self.buffer = parse_frames(self.buffer)
            self.seen.extend(frames)
            for f in frames:
                if until is not None and until(f):
                    return f
            if self.closed or time.monotonic() >= deadline:
                return None
            chunk = recv_some(self.sock, deadline)
            if chunk is None:
                continue
            if not chunk:
                self.closed = True
                continue
            self.buffer += chunk


# --- HPACK without the dynamic table (so the same header block can be sent any number of times)

STATIC_NAMES = {":authority": 1, ":method": 2, ":path": 4, ":scheme": 6, ":status": 8, "content-type": 31,
                "user-agent": 58}
STATIC_PAIRS = {(":method", "GET"): 2, (":method", "POST"): 3, (":path", "/"): 4, (":scheme", "http"): 6,
                (":scheme", "https"): 7}


def _hpack_int(value, prefix_bits, first_byte):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _hpack_string(text):
    raw = text.encode() if isinstance(text, str) else text
    return _hpack_int(len(raw), 7, 0x00) + raw


def hpack_block(headers):
    """Encodes headers with static-table references and literals without indexing only."""
    out = bytearray()
    for name, value in headers:
        if (name, value) in STATIC_PAIRS:
            out += _hpack_int(STATIC_PAIRS[(name, value)], 7, 0x80)
        elif name in STATIC_NAMES:
            out += _hpack_int(STATIC_NAMES[name], 4, 0x00) + _hpack_string(value)
        else:
            out += b"\x00" + _hpack_string(name) + _hpack_string(value)
    return bytes(out)


def grpc_headers(port, path="/grpc.testing.TestService/UnaryCall", content_type="application/grpc",
                 include_path=True):
    headers = [(":method", "POST"), (":scheme", "http")]
    if include_path:
        headers.append((":path", path))
    headers += [(":authority", "127.0.0.1:%d" % port), ("content-type", content_type), ("te", "trailers")]
    return headers


def grpc_message(payload, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(payload)) + payload


# --- a well-formed client over hyper-h2

class H2Client:
    """A client-side h2 connection over a socket, collecting per-stream responses."""

    def __init__(self, port, initial_window=None, validate=True, timeout=5.0):
        self.sock = connect(port, timeout)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=validate,
                                           normalize_outbound_headers=validate)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        if initial_window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: initial_window})
        self.flush()
        self.events = []
        self.headers = {}      # stream id -> list of header lists (response headers, then trailers)
        self.data = {}         # stream id -> bytearray
        self.ended = set()     # stream ids ended by the server (END_STREAM)
        self.resets = {}       # stream id -> error code
        self.goaway = None     # ConnectionTerminated event
        self.closed = False

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def send_raw(self, raw):
        self.sock.sendall(raw)

    def pump(self, deadline, until):
        """Reads and handles events until until() is true, EOF, or the deadline; returns until()."""
        while not until():
            if self.closed:
                return until()
            if time.monotonic() >= deadline:
                return until()
            chunk = recv_some(self.sock, deadline)
            if chunk is None:
                continue
            if not chunk:
                self.closed = True
                continue
            for event in self.conn.receive_data(chunk):
                self.events.append(event)
                if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                    self.headers.setdefault(event.stream_id, []).append(list(event.headers))
                elif isinstance(event, h2.events.DataReceived):
                    self.data.setdefault(event.stream_id, bytearray()).extend(event.data)
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    self.ended.add(event.stream_id)
                elif isinstance(event, h2.events.StreamReset):
                    self.resets[event.stream_id] = int(event.error_code)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self.goaway = event
            try:
                self.flush()
            except OSError:
                self.closed = True
        return until()

    def all_headers(self, stream_id):
        merged = {}
        for block in self.headers.get(stream_id, []):
            for name, value in block:
                merged[name] = value
        return merged

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
