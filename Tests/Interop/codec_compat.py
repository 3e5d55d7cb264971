"""Byte compatibility of our protobuf-c based Swift codec with Google's Python protobuf.

Usage: codec_compat.py REPO_ROOT WORKDIR

WORKDIR/swift/NAME.bin holds what Swift encoded for each sample of CodecCorpus. This script
builds the same samples with the Python protobuf package, checks that each Swift encoding
decodes to an equal message, and writes its own encodings to WORKDIR/python/NAME.bin for the
Swift side to decode. Exits 1 and lists every mismatch.
"""
import os
import sys
import tempfile

from grpc_tools import protoc
import grpc_tools


def compile_protos(root):
    out = tempfile.mkdtemp(prefix="codec-compat-")
    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    contract = [os.path.relpath(os.path.join(d, f), os.path.join(root, "proto"))
                for d, _, files in os.walk(os.path.join(root, "proto")) for f in files if f.endswith(".proto")]
    args = ["protoc", "-I" + os.path.join(root, "Tests", "Protos"), "-I" + os.path.join(root, "proto"),
            "-I" + wkt, "--python_out=" + out, "agentplane/test/v1/codec_test.proto"] + contract
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)


def corpus():
    from agentplane.test.v1 import codec_test_pb2 as t
    from agentplane.v1 import control_pb2 as c
    from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

    f32_max = 3.4028234663852886e38
    samples = {}
    samples["scalars_default"] = t.Scalars()
    samples["scalars_max"] = t.Scalars(
        f_double=sys.float_info.max, f_float=float("inf"), f_int32=2**31 - 1, f_int64=2**63 - 1,
        f_uint32=2**32 - 1, f_uint64=2**64 - 1, f_sint32=2**31 - 1, f_sint64=2**63 - 1, f_fixed32=2**32 - 1,
        f_fixed64=2**64 - 1, f_sfixed32=2**31 - 1, f_sfixed64=2**63 - 1, f_bool=True,
        f_string="héllo wörld · 日本語 · 🚀 · e\u0301", f_bytes=bytes([0, 1, 127, 128, 255]), f_color=t.COLOR_GREEN)
    samples["scalars_min"] = t.Scalars(
        f_double=float("-inf"), f_float=-f32_max, f_int32=-2**31, f_int64=-2**63, f_uint32=1, f_uint64=1,
        f_sint32=-2**31, f_sint64=-2**63, f_fixed32=1, f_fixed64=1, f_sfixed32=-2**31, f_sfixed64=-2**63,
        f_bool=False, f_string="x", f_bytes=b"\x00", f_color=t.COLOR_NEGATIVE)
    scalars_max = samples["scalars_max"]
    samples["repeated_small"] = t.Repeated(
        r_double=[0, -1.5, float("inf")], r_float=[1.25, -0.0], r_int32=[-1, 0, 2**31 - 1], r_int64=[-2**63, 2**63 - 1],
        r_uint32=[0, 2**32 - 1], r_uint64=[2**64 - 1], r_sint32=[-2, 2], r_sint64=[-2**63], r_fixed32=[7],
        r_fixed64=[8], r_sfixed32=[-9], r_sfixed64=[-10], r_bool=[True, False, True], r_string=["", "a", "ü"],
        r_bytes=[b"", b"\x01\x02"], r_color=[t.COLOR_RED, t.COLOR_NEGATIVE, 9],
        r_message=[t.Scalars(), scalars_max], r_unpacked=[1, -1, 300])
    n = range(10000)
    samples["repeated_large"] = t.Repeated(
        r_double=[i * 0.5 for i in n], r_int32=[i - 5000 for i in n], r_sint64=[i * -1000003 for i in n],
        r_bool=[i % 3 == 0 for i in n], r_string=["item-%d" % i for i in n],
        r_color=[t.COLOR_RED if i % 2 == 0 else t.COLOR_GREEN for i in n],
        r_message=[t.Scalars(f_int32=i) for i in n], r_unpacked=list(n))
    maps = t.Maps()
    maps.string_to_string.update({"": "empty key", "k": "", "ключ": "значение"})
    maps.int32_to_int64.update({0: 0, -1: -2**63, 2**31 - 1: 2**63 - 1})
    maps.uint64_to_bytes.update({0: b"", 2**64 - 1: b"\x09\x09"})
    maps.bool_to_message[False].CopyFrom(t.Scalars())
    maps.bool_to_message[True].CopyFrom(t.Scalars(f_string="t"))
    maps.sint32_to_color.update({-5: t.COLOR_RED, 5: t.COLOR_NEGATIVE})
    maps.string_to_message[""].CopyFrom(t.Scalars(f_int64=-1))
    maps.fixed64_to_double.update({1: -0.5})
    maps.sfixed32_to_bool.update({-1: True, 0: False})
    samples["maps"] = maps
    samples["choice_empty_text"] = t.Choice(before="b", text="")
    samples["choice_false_flag"] = t.Choice(flag=False, after="a")
    samples["choice_nested"] = t.Choice(before="outer", nested=t.Choice(scalars=t.Scalars(f_int32=-7)))
    node = t.Node(depth=50, label="leaf")
    for level in range(49, 0, -1):
        node = t.Node(child=node, depth=level, label="level %d" % level)
    samples["node_50_deep"] = node
    wk = t.WellKnown(at=timestamp_pb2.Timestamp(seconds=1764000000, nanos=123456789),
                     took=duration_pb2.Duration(seconds=-3, nanos=-500))
    wk.data.fields["name"].string_value = "support-agent"
    wk.data.fields["threshold"].number_value = 0.35
    wk.data.fields["enabled"].bool_value = True
    wk.data.fields["nothing"].null_value = struct_pb2.NULL_VALUE
    wk.data.fields["nested"].struct_value.fields["deep"].number_value = -1
    wk.data.fields["list"].list_value.values.add().string_value = "a"
    wk.data.fields["list"].list_value.values.add().number_value = 2
    wk.value.string_value = ""
    wk.list.SetInParent()
    samples["well_known"] = wk
    outer = t.Outer(inner=t.Outer.Inner(level=t.Outer.Inner.LEVEL_HIGH, name="in"),
                    inners=[t.Outer.Inner(), t.Outer.Inner(name="second")], level=t.Outer.Inner.LEVEL_HIGH,
                    protocol="so is protocol", self_id=-42)
    setattr(outer, "default", "default is a keyword")
    outer.by_name["x"].CopyFrom(t.Outer.Inner(level=5, name="x"))
    samples["outer"] = outer
    samples["unknown_enum"] = t.Scalars(f_color=77)
    flow = '{"nodes":[' + ",".join(
        '{"id":"n%d","kind":"tool","params":{"query":"lookup %d"}}' % (i, i) for i in range(75)) + "]}"
    agent = c.Agent(
        id="8a5e2c4e-3f0b-4d7e-9a41-2b7c1f0d9e11", name="Support desk", description="Answers from the KB.",
        flow_json=flow, tags=["tag-%d" % i for i in range(20)], version=7, latest_version=9, author_id="u-1",
        change_message="tune threshold", restored_from_version=3, created_by="u-0",
        created_at=timestamp_pb2.Timestamp(seconds=1700000000, nanos=5),
        updated_at=timestamp_pb2.Timestamp(seconds=1700000100))
    agent.metadata.update({"team": "support", "owner": "ops@example.com", "tier": "gold", "region": "eu", "": "empty"})
    samples["agent"] = agent
    return samples


def main():
    root, work = sys.argv[1], sys.argv[2]
    compile_protos(root)
    samples = corpus()
    os.makedirs(os.path.join(work, "python"), exist_ok=True)
    swift_names = {f[:-4] for f in os.listdir(os.path.join(work, "swift")) if f.endswith(".bin")}
    failures = []
    if swift_names != set(samples):
        failures.append("sample names differ: only in Swift %s, only in Python %s"
                        % (sorted(swift_names - set(samples)), sorted(set(samples) - swift_names)))
    for name, expected in samples.items():
        with open(os.path.join(work, "python", name + ".bin"), "wb") as out:
            out.write(expected.SerializeToString())
        path = os.path.join(work, "swift", name + ".bin")
        if not os.path.exists(path):
            continue
        decoded = type(expected)()
        try:
            decoded.ParseFromString(open(path, "rb").read())
        except Exception as error:  # noqa: BLE001 - report every failure, not just the first
            failures.append("%s: Python cannot decode Swift's bytes: %s" % (name, error))
            continue
        if decoded != expected:
            fields = sorted({f.name for f, _ in decoded.ListFields()} | {f.name for f, _ in expected.ListFields()})
            differing = [f for f in fields if str(getattr(decoded, f)) != str(getattr(expected, f))]
            failures.append("%s: Swift's bytes decode to a different message; fields differ: %s"
                            % (name, ", ".join("%s (got %.200r)" % (f, getattr(decoded, f)) for f in differing)))
    for failure in failures:
        print("MISMATCH " + failure)
    print("python checked %d samples, %d mismatches" % (len(samples), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
