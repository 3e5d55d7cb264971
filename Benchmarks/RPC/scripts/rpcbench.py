#!/usr/bin/env python3
"""Helpers for Benchmarks/rpc-run.

  rpcbench.py requests DIR      writes DIR/unary.bin and DIR/stream.bin, gRPC-framed request bodies
                                for h2load's -d (encoded by hand; the layout is checked against the
                                grpc_tools-compiled messages when grpcio-tools is importable)
  rpcbench.py check PORT [TOKEN]
                                one UnaryCall and one short StreamingOutputCall with grpcio (with
                                `authorization: Bearer TOKEN` when given); exits 1 unless both end
                                with grpc-status 0 and carry the asked-for payloads
"""
import os
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

UNARY_RESPONSE_SIZE = 100
UNARY_PAYLOAD_SIZE = 90
STREAM_MESSAGES = 100_000
STREAM_MESSAGE_SIZE = 100


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, wire_type, body):
    """A field: key, then for wire type 2 a length and the bytes, for 0 the varint itself."""
    key = varint(number << 3 | wire_type)
    if wire_type == 2:
        return key + varint(len(body)) + body
    return key + varint(body)


def grpc_frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message


def simple_request():
    # SimpleRequest{response_size: 100, payload: Payload{body: 90 zero bytes}}
    payload = field(2, 2, b"\x00" * UNARY_PAYLOAD_SIZE)
    return field(2, 0, UNARY_RESPONSE_SIZE) + field(3, 2, payload)


def streaming_request():
    # StreamingOutputCallRequest{response_parameters: 100000 x ResponseParameters{size: 100}}
    parameters = field(2, 2, field(1, 0, STREAM_MESSAGE_SIZE))
    return parameters * STREAM_MESSAGES


def stream_response_frame_size():
    """Bytes on the wire (DATA payload) per StreamingOutputCallResponse, gRPC frame included."""
    payload = field(2, 2, b"\x00" * STREAM_MESSAGE_SIZE)
    return len(grpc_frame(field(1, 2, payload)))


def load_protos():
    sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
    import interop_protos
    return interop_protos.load(ROOT)


def requests(directory):
    unary, stream = simple_request(), streaming_request()
    try:
        _, messages_pb2, _, _ = load_protos()
    except ImportError:
        messages_pb2 = None
    if messages_pb2 is not None:
        expected = messages_pb2.SimpleRequest(
            response_size=UNARY_RESPONSE_SIZE, payload=messages_pb2.Payload(body=b"\x00" * UNARY_PAYLOAD_SIZE))
        assert expected.SerializeToString() == unary, "hand-encoded SimpleRequest differs"
        parsed = messages_pb2.StreamingOutputCallRequest.FromString(stream)
        assert len(parsed.response_parameters) == STREAM_MESSAGES
        assert all(p.size == STREAM_MESSAGE_SIZE for p in parsed.response_parameters)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "unary.bin"), "wb") as f:
        f.write(grpc_frame(unary))
    with open(os.path.join(directory, "stream.bin"), "wb") as f:
        f.write(grpc_frame(stream))
    print(f"unary request {len(grpc_frame(unary))} bytes, streaming request {len(grpc_frame(stream))} bytes, "
          f"streaming response {stream_response_frame_size()} bytes per message")


def check(port, token=None):
    import grpc
    _, messages_pb2, _, test_pb2_grpc = load_protos()
    metadata = [("authorization", "Bearer " + token)] if token else None
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        request = messages_pb2.SimpleRequest.FromString(simple_request())
        response, call = stub.UnaryCall.with_call(request, timeout=10, metadata=metadata)
        if call.code() != grpc.StatusCode.OK or len(response.payload.body) != UNARY_RESPONSE_SIZE:
            sys.exit(f"UnaryCall: status {call.code()}, payload {len(response.payload.body)} bytes")
        stream = stub.StreamingOutputCall(
            messages_pb2.StreamingOutputCallRequest(
                response_parameters=[messages_pb2.ResponseParameters(size=STREAM_MESSAGE_SIZE)] * 1000),
            timeout=10, metadata=metadata)
        sizes = [len(r.payload.body) for r in stream]
        if stream.code() != grpc.StatusCode.OK or sizes != [STREAM_MESSAGE_SIZE] * 1000:
            sys.exit(f"StreamingOutputCall: status {stream.code()}, {len(sizes)} responses")
    print(f"grpcio check on port {port}: UnaryCall and StreamingOutputCall(1000) ended with grpc-status 0 (OK)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "requests":
        requests(sys.argv[2])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "check":
        check(int(sys.argv[2]), sys.argv[3] if len(sys.argv) == 4 else None)
    else:
        sys.exit(__doc__)
