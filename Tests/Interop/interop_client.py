"""The gRPC interop test cases, run by Python's grpcio against a server under test.

Usage: interop_client.py REPO_ROOT --port N [--case NAME ...]

Each case follows the gRPC interop test descriptions (doc/interop-test-descriptions.md in
grpc/grpc). Prints one line per case and, last, "N passed, M failed"; exits 1 on any failure.
"""
import argparse
import sys
import time

import grpc

from interop_protos import load

empty_pb2, messages_pb2, test_pb2, test_pb2_grpc = load(sys.argv[1])

REQUEST_SIZES = [27182, 8, 1828, 45904]
RESPONSE_SIZES = [31415, 9, 2653, 58979]


def payload(size):
    return messages_pb2.Payload(body=b"\x00" * size)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def empty_unary(stub):
    response = stub.EmptyCall(empty_pb2.Empty())
    expect(response == empty_pb2.Empty(), "EmptyCall did not return an empty message")


def large_unary(stub):
    response = stub.UnaryCall(messages_pb2.SimpleRequest(response_size=314159, payload=payload(271828)))
    expect(len(response.payload.body) == 314159, "payload size %d" % len(response.payload.body))
    expect(response.payload.body == b"\x00" * 314159, "payload is not zeros")


def client_streaming(stub):
    requests = (messages_pb2.StreamingInputCallRequest(payload=payload(size)) for size in REQUEST_SIZES)
    response = stub.StreamingInputCall(requests)
    expect(response.aggregated_payload_size == 74922, "aggregated %d" % response.aggregated_payload_size)


def server_streaming(stub):
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=size) for size in RESPONSE_SIZES])
    sizes = [len(response.payload.body) for response in stub.StreamingOutputCall(request)]
    expect(sizes == RESPONSE_SIZES, "sizes %r" % sizes)


class Pipe:
    """A request iterator the test feeds one message at a time."""

    def __init__(self):
        import queue
        self.queue = queue.Queue()

    def add(self, item):
        self.queue.put(item)

    def close(self):
        self.queue.put(None)

    def __iter__(self):
        return self

    def __next__(self):
        item = self.queue.get()
        if item is None:
            raise StopIteration
        return item


def ping_pong(stub):
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe)
    for request_size, response_size in zip(REQUEST_SIZES, RESPONSE_SIZES):
        pipe.add(messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=response_size)], payload=payload(request_size)))
        response = next(responses)
        expect(len(response.payload.body) == response_size, "response size %d" % len(response.payload.body))
    pipe.close()
    expect(next(responses, None) is None, "an extra response arrived")


def empty_stream(stub):
    responses = list(stub.FullDuplexCall(iter([])))
    expect(responses == [], "responses to an empty stream: %d" % len(responses))


def custom_metadata(stub):
    initial = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
    trailing = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
    metadata = (initial, trailing)

    def check(call):
        expect(initial in list(call.initial_metadata()), "initial metadata %r" % (call.initial_metadata(),))
        expect(trailing in list(call.trailing_metadata()), "trailing metadata %r" % (call.trailing_metadata(),))

    _, call = stub.UnaryCall.with_call(
        messages_pb2.SimpleRequest(response_size=314159, payload=payload(271828)), metadata=metadata)
    check(call)
    pipe = Pipe()
    call = stub.FullDuplexCall(pipe, metadata=metadata)
    pipe.add(messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=314159)], payload=payload(271828)))
    next(call)
    pipe.close()
    expect(next(call, None) is None, "an extra response arrived")
    check(call)


def _status_case(stub, code, message):
    status = messages_pb2.EchoStatus(code=code, message=message)
    try:
        stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status))
        raise AssertionError("UnaryCall succeeded")
    except grpc.RpcError as error:
        expect(error.code().value[0] == code, "unary code %s" % error.code())
        expect(error.details() == message, "unary message %r" % error.details())
    return status


def status_code_and_message(stub):
    status = _status_case(stub, 2, "test status message")
    responses = stub.FullDuplexCall(iter([messages_pb2.StreamingOutputCallRequest(response_status=status)]))
    try:
        list(responses)
        raise AssertionError("FullDuplexCall succeeded")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.UNKNOWN, "duplex code %s" % error.code())
        expect(error.details() == "test status message", "duplex message %r" % error.details())


def special_status_message(stub):
    _status_case(stub, 2, "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n")


def unimplemented_method(stub):
    try:
        stub.UnimplementedCall(empty_pb2.Empty())
        raise AssertionError("UnimplementedCall succeeded")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.UNIMPLEMENTED, "code %s" % error.code())


def unimplemented_service(stub, channel):
    stub = test_pb2_grpc.UnimplementedServiceStub(channel)
    try:
        stub.UnimplementedCall(empty_pb2.Empty())
        raise AssertionError("UnimplementedService/UnimplementedCall succeeded")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.UNIMPLEMENTED, "code %s" % error.code())


def cancel_after_begin(stub):
    pipe = Pipe()
    future = stub.StreamingInputCall.future(pipe)
    future.cancel()
    pipe.close()
    expect(future.cancelled(), "the call was not cancelled")


def cancel_after_first_response(stub):
    pipe = Pipe()
    call = stub.FullDuplexCall(pipe)
    pipe.add(messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=31415)], payload=payload(27182)))
    response = next(call)
    expect(len(response.payload.body) == 31415, "response size %d" % len(response.payload.body))
    call.cancel()
    try:
        next(call)
        raise AssertionError("the stream went on after cancel")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.CANCELLED, "code %s" % error.code())
    pipe.close()


def timeout_on_sleeping_server(stub):
    pipe = Pipe()
    call = stub.FullDuplexCall(pipe, timeout=0.001)
    pipe.add(messages_pb2.StreamingOutputCallRequest(payload=payload(27182)))
    try:
        next(call)
        raise AssertionError("a response arrived")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, "code %s" % error.code())
    except StopIteration:
        raise AssertionError("the stream ended without DEADLINE_EXCEEDED")
    pipe.close()


CASES = [
    ("empty_unary", empty_unary), ("large_unary", large_unary), ("client_streaming", client_streaming),
    ("server_streaming", server_streaming), ("ping_pong", ping_pong), ("empty_stream", empty_stream),
    ("custom_metadata", custom_metadata), ("status_code_and_message", status_code_and_message),
    ("special_status_message", special_status_message), ("unimplemented_method", unimplemented_method),
    ("unimplemented_service", unimplemented_service), ("cancel_after_begin", cancel_after_begin),
    ("cancel_after_first_response", cancel_after_first_response),
    ("timeout_on_sleeping_server", timeout_on_sleeping_server),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--case", action="append")
    args = parser.parse_args()
    channel = grpc.insecure_channel("127.0.0.1:%d" % args.port)
    grpc.channel_ready_future(channel).result(timeout=10)
    stub = test_pb2_grpc.TestServiceStub(channel)
    passed = failed = 0
    for name, case in CASES:
        if args.case and name not in args.case:
            continue
        started = time.monotonic()
        try:
            if name == "unimplemented_service":
                case(stub, channel)
            else:
                case(stub)
            passed += 1
            print("PASS %s (%.0f ms)" % (name, (time.monotonic() - started) * 1000))
        except Exception as error:  # noqa: BLE001 - every case reports, whatever failed
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(error).__name__, error))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
