#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz targets (docs/FUZZING.md) under Tests/Fuzz/Corpus.

  decode/      one message per request type of the contract: the first byte is the type's index
               in AgentplaneProtoFiles.requestTypes (file, service, method order; each once),
               the rest every field filled (strings, numbers, nested messages, lists, maps)
  http2/       frames after the client preface and SETTINGS (which the harness sends): gRPC calls
               to the interop service, health and reflection, and control frames
  flow/        the example flows and one small flow per node kind
  expression/  router conditions from docs/FLOWS.md

Usage: python3 Tests/Fuzz/make_seeds.py  (from the repository root; rewrites the corpora)
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import grpc_tools
import hpack
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "Tests", "Fuzz", "Corpus")


def reset(name):
    path = os.path.join(CORPUS, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- the contract ------------------------------------------------------------------------------

def load_pool():
    work = tempfile.mkdtemp(prefix="fuzz-seeds-")
    out = os.path.join(work, "all.pb")
    files = sorted(os.path.relpath(p, os.path.join(ROOT, "proto"))
                   for p in glob.glob(os.path.join(ROOT, "proto", "**", "*.proto"), recursive=True))
    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    subprocess.run(["python3", "-m", "grpc_tools.protoc", "-I" + os.path.join(ROOT, "proto"), "-I" + wkt,
                    "--include_imports", "--descriptor_set_out=" + out] + files, check=True)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for file in fds.file:
        pool.Add(file)
    shutil.rmtree(work)
    return pool, files


# The order of AgentplaneProtoFiles.all (the generator's file order): well-known types first.
REGISTRY_ORDER = ["google/protobuf/duration.proto", "google/protobuf/struct.proto", "google/protobuf/timestamp.proto"]


def request_types(pool, files):
    names = []
    for name in REGISTRY_ORDER + files:
        file = pool.FindFileByName(name)
        for service in sorted(file.services_by_name.values(), key=lambda s: s.index):
            for method in service.methods:
                if method.input_type.full_name not in names:
                    names.append(method.input_type.full_name)
    return names


def fill(message, depth=0):
    """Every field set: strings, numbers, nested messages (three levels), two list elements, a map entry."""
    from google.protobuf.descriptor import FieldDescriptor as F
    for field in message.DESCRIPTOR.fields:
        if field.containing_oneof is not None and field.containing_oneof.fields[0] is not field:
            continue  # one member per oneof
        def sample(f, i=0):
            if f.type == F.TYPE_STRING:
                return f.name + ("-%d" % i if i else "")
            if f.type == F.TYPE_BYTES:
                return bytes([0, 1, 2, 255])
            if f.type == F.TYPE_BOOL:
                return True
            if f.type == F.TYPE_ENUM:
                return f.enum_type.values[-1].number
            if f.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
                return 0.5
            return 7 + i
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            entry_map = getattr(message, field.name)
            key = sample(key_field)
            if value_field.message_type is not None:
                if depth < 3:
                    fill(entry_map[key], depth + 1)
            else:
                entry_map[key] = sample(value_field)
        elif field.is_repeated:
            values = getattr(message, field.name)
            for i in range(2):
                if field.message_type is not None:
                    if depth < 3:
                        fill(values.add(), depth + 1)
                else:
                    values.append(sample(field, i))
        elif field.message_type is not None:
            if depth < 3:
                fill(getattr(message, field.name), depth + 1)
                getattr(message, field.name).SetInParent()
        else:
            setattr(message, field.name, sample(field))


def decode_seeds(pool, files):
    folder = reset("decode")
    types = request_types(pool, files)
    for index, name in enumerate(types):
        message = message_factory.GetMessageClass(pool.FindMessageTypeByName(name))()
        fill(message)
        write(folder, "%02d-%s" % (index, name), bytes([index]) + message.SerializeToString())
    return types


# ---- HTTP/2 ------------------------------------------------------------------------------------

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


def grpc_message(body, compressed=0):
    return struct.pack(">BI", compressed, len(body)) + body


def call(encoder, stream, path, messages, extra=(), end=True):
    headers = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
               ("content-type", "application/grpc"), ("te", "trailers")] + list(extra)
    out = frame(HEADERS, 0x4, stream, encoder.encode(headers))
    for i, body in enumerate(messages):
        last = end and i == len(messages) - 1
        out += frame(DATA, 0x1 if last else 0, stream, grpc_message(body))
    if not messages and end:
        out += frame(DATA, 0x1, stream, b"")
    return out


def http2_seeds(pool):
    folder = reset("http2")
    cls = lambda name: message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
    Simple, Streaming = cls("grpc.testing.SimpleRequest"), cls("grpc.testing.StreamingOutputCallRequest")
    Health, Reflection = cls("grpc.health.v1.HealthCheckRequest"), cls("grpc.reflection.v1.ServerReflectionRequest")
    T = "/grpc.testing.TestService/"
    ack = frame(SETTINGS, 0x1, 0)
    seeds = {}
    e = hpack.Encoder()
    seeds["empty-call"] = ack + call(e, 1, T + "EmptyCall", [b""])
    e = hpack.Encoder()
    seeds["unary-call"] = call(e, 1, T + "UnaryCall", [Simple(response_size=16, payload={"body": b"abc"},
                                                         fill_username=True).SerializeToString()])
    e = hpack.Encoder()
    seeds["unary-echo-status-and-metadata"] = call(
        e, 1, T + "UnaryCall", [Simple(response_status={"code": 2, "message": "oops"}).SerializeToString()],
        extra=[("x-grpc-test-echo-initial", "v"), ("x-grpc-test-echo-trailing-bin", "AAEC"), ("grpc-timeout", "5S")])
    e = hpack.Encoder()
    seeds["streaming-output"] = call(e, 1, T + "StreamingOutputCall", [Streaming(
        response_parameters=[{"size": 8}, {"size": 0}, {"size": 32}]).SerializeToString()])
    e = hpack.Encoder()
    seeds["streaming-input"] = call(e, 1, T + "StreamingInputCall", [b"\x0a\x03\x12\x01x", b"", b"\x0a\x00"])
    e = hpack.Encoder()
    seeds["full-duplex"] = call(e, 1, T + "FullDuplexCall", [Streaming(response_parameters=[{"size": 4}]).SerializeToString()] * 2)
    e = hpack.Encoder()
    seeds["half-duplex-open"] = call(e, 1, T + "HalfDuplexCall", [b""], end=False)
    e = hpack.Encoder()
    seeds["unimplemented"] = call(e, 1, T + "UnimplementedCall", [b""]) + call(e, 3, "/no.Such/Method", [b""])
    e = hpack.Encoder()
    seeds["health-check"] = call(e, 1, "/grpc.health.v1.Health/Check", [Health(service="grpc.testing.TestService").SerializeToString()])
    e = hpack.Encoder()
    seeds["health-watch"] = call(e, 1, "/grpc.health.v1.Health/Watch", [Health().SerializeToString()])
    e = hpack.Encoder()
    seeds["reflection"] = call(e, 1, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", [
        Reflection(list_services="").SerializeToString(),
        Reflection(file_containing_symbol="grpc.testing.TestService").SerializeToString()])
    e = hpack.Encoder()
    seeds["deadline-huge"] = call(e, 1, T + "EmptyCall", [b""], extra=[("grpc-timeout", "99999999H")])
    e = hpack.Encoder()
    seeds["compressed-flag"] = call(e, 1, T + "UnaryCall", [], end=False, extra=[("grpc-encoding", "gzip")]) + \
        frame(DATA, 0x1, 1, grpc_message(b"\x1f\x8b\x08\x00", compressed=1))
    e = hpack.Encoder()
    block = e.encode([(":method", "POST"), (":scheme", "http"), (":path", T + "EmptyCall"), (":authority", "a"),
                      ("content-type", "application/grpc+proto"), ("te", "trailers")])
    seeds["continuation"] = frame(HEADERS, 0, 1, block[:5]) + frame(CONTINUATION, 0x4, 1, block[5:]) + \
        frame(DATA, 0x1, 1, grpc_message(b""))
    e = hpack.Encoder()
    seeds["two-streams-interleaved"] = call(e, 1, T + "FullDuplexCall", [b""], end=False) + \
        call(e, 3, T + "EmptyCall", [b""]) + frame(DATA, 0x1, 1, grpc_message(b""))
    e = hpack.Encoder()
    seeds["reset-mid-call"] = call(e, 1, T + "StreamingInputCall", [b"\x0a\x00"], end=False) + \
        frame(RST_STREAM, 0, 1, struct.pack(">I", 8))
    seeds["control-frames"] = ack + frame(PING, 0, 0, b"12345678") + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)) + \
        frame(PRIORITY, 0, 1, b"\x00\x00\x00\x00\x10") + frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1 << 16)) + \
        frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0))
    e = hpack.Encoder()
    seeds["message-split-across-frames"] = call(e, 1, T + "UnaryCall", [], end=False) + \
        frame(DATA, 0, 1, grpc_message(b"\x10\x04\x22\x02ab")[:3]) + frame(DATA, 0x1, 1, grpc_message(b"\x10\x04\x22\x02ab")[3:])
    for name, data in seeds.items():
        write(folder, name, data)


# ---- flows and expressions -----------------------------------------------------------------------

def flow_seeds():
    folder = reset("flow")
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.flow.json"))):
        shutil.copy(path, os.path.join(folder, os.path.basename(path)))
    small = {
        "set-loop": {"name": "loop", "state": {"n": {"type": "number"}}, "entry": "inc", "nodes": [
            {"id": "inc", "kind": "set", "values": {"n": 1}, "next": "route"},
            {"id": "route", "kind": "router", "routes": [{"when": "state.n > 3", "to": "done"}], "default": "inc"},
            {"id": "done", "kind": "end"}]},
        "llm-tool-human": {"name": "x", "entry": "ask", "nodes": [
            {"id": "ask", "kind": "llm", "model": "builtin", "prompt": "Answer {{input}}", "output": "answer", "next": "t"},
            {"id": "t", "kind": "tool", "tool": "kb.search", "args": {"q": "{{input}}"}, "output": "kb", "next": "h"},
            {"id": "h", "kind": "human_input", "prompt": "ok?", "next": "pick"},
            {"id": "pick", "kind": "llm_router", "model": "builtin", "options": [{"name": "a", "to": "end"}], "default": "end"},
            {"id": "end", "kind": "end"}],
            "edges": [{"from": "ask", "to": "t", "when": "exists(state.answer)"}]},
        "invalid-duplicate-ids": {"entry": "a", "nodes": [{"id": "a", "kind": "end"}, {"id": "a", "kind": "end"}]},
        "invalid-types": {"entry": 3, "nodes": {"a": 1}, "state": []},
    }
    for name, value in small.items():
        write(folder, name + ".json", json.dumps(value, indent=1))
    write(folder, "not-json", "{\"nodes\": [")


def expression_seeds():
    folder = reset("expression")
    samples = [
        "state.score > 0.5", "state.score >= 0.5 and state.name == 'bob'", "not state.score == 2",
        "exists(state.kb.results.0.text)", "state.kb contains 'top_score'", "state.tags contains 'vip' or state.tags contains 3",
        "(state.score < 1 or false) and not (input == \"x\")", "state.kb.results.*.text contains 'reset'",
        "-1 < state.score", "state.name != null", "input contains 'refund'", "state.x == 'open",
    ]
    for index, text in enumerate(samples):
        write(folder, "%02d" % index, text)


def main():
    pool, files = load_pool()
    types = decode_seeds(pool, files)
    http2_seeds(pool)
    flow_seeds()
    expression_seeds()
    print("seeds written: %d request types" % len(types))


if __name__ == "__main__":
    main()
