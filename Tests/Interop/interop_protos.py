"""Compiles grpc.testing's protos from proto/grpc/testing for Python.

The files are copied flat into a temporary folder first: generated under grpc/testing/ they
would shadow the grpcio package itself (which is also named grpc). The protobuf package,
service and method names stay grpc.testing, so the wire is the same.
"""
import os
import shutil
import sys
import tempfile

from grpc_tools import protoc
import grpc_tools


def load(root):
    """Returns the modules (empty_pb2, messages_pb2, test_pb2, test_pb2_grpc)."""
    source = os.path.join(root, "proto", "grpc", "testing")
    work = tempfile.mkdtemp(prefix="interop-protos-")
    for name in ("empty.proto", "messages.proto", "test.proto"):
        with open(os.path.join(source, name)) as f:
            text = f.read().replace('import "grpc/testing/', 'import "')
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    args = ["protoc", "-I" + work, "-I" + wkt, "--python_out=" + work, "--grpc_python_out=" + work,
            "empty.proto", "messages.proto", "test.proto"]
    if protoc.main(args) != 0:
        sys.exit("protoc failed on the interop protos")
    sys.path.insert(0, work)
    import empty_pb2
    import messages_pb2
    import test_pb2
    import test_pb2_grpc
    return empty_pb2, messages_pb2, test_pb2, test_pb2_grpc
