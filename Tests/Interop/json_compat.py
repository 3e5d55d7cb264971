"""Our proto3 JSON mapping (Sources/RPC/ProtoJSON) checked against Google's Python protobuf.

Usage: json_compat.py WORKDIR

WORKDIR/descriptors/*.bin are our serialized FileDescriptorProtos (in dependency order by name);
for each sample, WORKDIR/swift/NAME.type holds the message's full name, NAME.json the JSON our
encoder wrote, NAME.bin the bytes our decoder made of that JSON and NAME.typed.bin the generated
Swift type's own encoding of the message. This script builds message classes from the descriptors
alone, and for every sample checks that json_format.Parse reads our JSON to the same message as
the typed bytes, and that its deterministic serialization equals our decoder's bytes (or, where
map entries are ordered differently, decodes to the same message). It writes
its own JSON (json_format.MessageToJson with fields without presence printed, once with JSON names
and indentation, once with proto names compactly) to WORKDIR/python/NAME.json and
NAME.proto_names.json for the Swift side to decode. Exits 1 and lists every mismatch.
"""
import inspect
import os
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def load_pool(directory):
    pool = descriptor_pool.DescriptorPool()
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as file:
            pool.Add(descriptor_pb2.FileDescriptorProto.FromString(file.read()))
    return pool


def print_defaults_flag():
    # The flag's name changed in protobuf 5.26 (including_default_value_fields before).
    parameters = inspect.signature(json_format.MessageToJson).parameters
    if "always_print_fields_with_no_presence" in parameters:
        return "always_print_fields_with_no_presence"
    return "including_default_value_fields"


def main():
    work = sys.argv[1]
    pool = load_pool(os.path.join(work, "descriptors"))
    flag = print_defaults_flag()
    swift = os.path.join(work, "swift")
    python = os.path.join(work, "python")
    os.makedirs(python, exist_ok=True)
    names = sorted(f[:-5] for f in os.listdir(swift) if f.endswith(".type"))
    failures = []
    for name in names:
        def read(suffix, mode="rb"):
            with open(os.path.join(swift, name + suffix), mode) as file:
                return file.read()

        full_name = read(".type", "r").strip()
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
        try:
            parsed = json_format.Parse(read(".json").decode("utf-8"), cls(), descriptor_pool=pool)
        except Exception as error:  # noqa: BLE001 - report every failure, not just the first
            failures.append("%s: Python cannot parse our JSON: %s" % (name, error))
            continue
        typed = cls.FromString(read(".typed.bin"))
        if parsed != typed:
            failures.append("%s: our JSON parses to a different message than the typed bytes:\n%s\nvs\n%s"
                            % (name, str(parsed)[:600], str(typed)[:600]))
        theirs, ours = parsed.SerializeToString(deterministic=True), read(".bin")
        # Python's upb orders an empty map key last, C++ and we first: then the messages must be equal.
        if theirs != ours and cls.FromString(ours) != parsed:
            at = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), min(len(theirs), len(ours)))
            failures.append("%s: Python's bytes for our JSON differ from our decoder's from byte %d: %s vs %s"
                            % (name, at, theirs[max(0, at - 16):at + 24].hex(), ours[max(0, at - 16):at + 24].hex()))
        with open(os.path.join(python, name + ".json"), "w", encoding="utf-8") as out:
            out.write(json_format.MessageToJson(parsed, descriptor_pool=pool, **{flag: True}))
        with open(os.path.join(python, name + ".proto_names.json"), "w", encoding="utf-8") as out:
            out.write(json_format.MessageToJson(parsed, descriptor_pool=pool, preserving_proto_field_name=True,
                                                indent=None, ensure_ascii=False, **{flag: True}))
    for failure in failures:
        print("MISMATCH " + failure)
    print("python checked %d samples, %d mismatches" % (len(names), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
