"""grpcio's own health-checking and reflection clients against a server under test.

Usage: health_reflection_check.py REPO_ROOT --port N
Prints one line per check and, last, "N passed, M failed"; exits 1 on any failure.
"""
import argparse
import sys

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

SERVICES = {"grpc.testing.TestService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection"}


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def health_check(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "grpc.testing.TestService"):
        response = stub.Check(health_pb2.HealthCheckRequest(service=service))
        expect(response.status == health_pb2.HealthCheckResponse.SERVING, "%r: %s" % (service, response))
    try:
        stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
        raise AssertionError("an unknown service was found")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.NOT_FOUND, "unknown service: %s" % error.code())


def health_watch(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    watch = stub.Watch(health_pb2.HealthCheckRequest(service="grpc.testing.TestService"), timeout=5)
    expect(next(watch).status == health_pb2.HealthCheckResponse.SERVING, "watch did not start with SERVING")
    watch.cancel()
    unknown = stub.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
    expect(next(unknown).status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN, "unknown service not reported")
    unknown.cancel()


def reflection(channel):
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    expect(SERVICES <= services, "services listed: %s" % sorted(services))
    pool = descriptor_pool.DescriptorPool(database)
    service = pool.FindServiceByName("grpc.testing.TestService")
    methods = {method.name: method for method in service.methods}
    expect("UnaryCall" in methods and "FullDuplexCall" in methods, "methods: %s" % sorted(methods))
    expect(methods["UnaryCall"].input_type.full_name == "grpc.testing.SimpleRequest", "UnaryCall input type")
    expect(methods["FullDuplexCall"].client_streaming and methods["FullDuplexCall"].server_streaming,
           "FullDuplexCall is not bidirectional")
    message = pool.FindMessageTypeByName("grpc.testing.SimpleRequest")
    expect(message.fields_by_name["response_size"].number == 2, "SimpleRequest.response_size")
    expect(message.fields_by_name["payload"].message_type.full_name == "grpc.testing.Payload", "nested type")
    method = pool.FindMethodByName("grpc.health.v1.Health.Check")
    expect(method.output_type.full_name == "grpc.health.v1.HealthCheckResponse", "Health.Check output")
    try:
        pool.FindMessageTypeByName("no.such.Message")
        raise AssertionError("an unknown symbol was found")
    except KeyError:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    channel = grpc.insecure_channel("127.0.0.1:%d" % args.port)
    passed = failed = 0
    for name, check in (("health_check", health_check), ("health_watch", health_watch), ("reflection", reflection)):
        try:
            check(channel)
            passed += 1
            print("PASS %s" % name)
        except Exception as error:  # noqa: BLE001 - report each check
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(error).__name__, error))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
