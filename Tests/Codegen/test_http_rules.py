"""The protoc plugin's HTTP rules (option http_rules), run through protoc as scripts/generate runs it.

The contract here is a small one of its own, protos/httptest/v1/things.proto. http_rules/good.yaml
binds every kind of route the plugin supports and must generate; each file of http_rules/bad/ must
make protoc fail with the message its `# expect:` lines give (a `*.internal.yaml` file is the
internal list, run with good.yaml; any other is the rules, run with good_internal.yaml).

The plugin is $PROTOC_GEN_AGENTPLANE when set, else the one `swift build` makes (as scripts/generate
does). Run: python3 -m unittest discover -s Tests/Codegen -p 'test_*.py'
"""

import json
import os
import re
import subprocess
import tempfile
import textwrap
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RULES = HERE / "http_rules"
PROTO = "httptest/v1/things.proto"


def plugin_path():
    """The plugin binary: $PROTOC_GEN_AGENTPLANE, else built by swift build in the default folder."""
    if os.environ.get("PROTOC_GEN_AGENTPLANE"):
        return os.environ["PROTOC_GEN_AGENTPLANE"]
    subprocess.run(["swift", "build", "--product", "protoc-gen-agentplane", "-q"], cwd=REPO, check=True, timeout=1800)
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, check=True, capture_output=True,
                              text=True, timeout=300).stdout.strip()
    return str(Path(bin_path) / "protoc-gen-agentplane")


PLUGIN = None


def run_plugin(rules, internal, out):
    """Runs protoc with the plugin on the test contract from the repository's root, as scripts/generate
    does (the YAML paths relative to it); returns the completed process."""
    global PLUGIN
    if PLUGIN is None:
        PLUGIN = plugin_path()
    parameter = f"http_rules={Path(rules).relative_to(REPO)},http_internal={Path(internal).relative_to(REPO)}"
    return subprocess.run(
        ["protoc", f"-I{HERE / 'protos'}", "-I/usr/include", f"--plugin=protoc-gen-agentplane={PLUGIN}",
         f"--agentplane_out={parameter}:{out}", PROTO],
        cwd=REPO, capture_output=True, text=True, timeout=120)


def openapi_json(swift_source):
    """The JSON in OpenAPIDocument.pb.swift's raw string literal."""
    match = re.search(r'public static let json: String = (#+)"""\n(.*?)\n[ ]*"""\1$', swift_source, re.S | re.M)
    if match is None:
        raise AssertionError("no raw string literal in OpenAPIDocument.pb.swift")
    return json.loads(textwrap.dedent(match.group(2)))


class GoodRulesTest(unittest.TestCase):
    """good.yaml generates the route table, the OpenAPI document and the routes table."""

    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.TemporaryDirectory(prefix="http-rules-")
        result = run_plugin(RULES / "good.yaml", RULES / "good_internal.yaml", cls.out.name)
        if result.returncode != 0:
            raise AssertionError(f"protoc failed on good.yaml:\n{result.stderr}")
        out = Path(cls.out.name)
        cls.routes = (out / "HTTPRoutes.pb.swift").read_text()
        cls.openapi = openapi_json((out / "OpenAPIDocument.pb.swift").read_text())
        cls.markdown = (out / "routes.md").read_text()

    @classmethod
    def tearDownClass(cls):
        cls.out.cleanup()

    def test_route_table_has_one_entry_per_binding_in_file_order(self):
        paths = re.findall(r'verb: \.(\w+), path: "([^"]*)"', self.routes)
        self.assertEqual(paths, [
            ("get", "/v1/things/{thing_id}"), ("get", "/v1/things/{thing_id}/versions/{version}"),
            ("get", "/v1/things"), ("get", "/v1/owners/{filter.owner}/things"), ("post", "/v1/things:search"),
            ("post", "/v1/things"), ("post", "/v1/uploads"), ("get", "/v1/things/{thing_id}/data"),
            ("get", "/v1/{thing_id=things/*}:watch"),
        ])
        self.assertIn('body: "thing", responseBody: nil', self.routes)
        self.assertIn('body: nil, responseBody: "data"', self.routes)
        self.assertIn("clientStreaming: true, serverStreaming: false", self.routes)
        self.assertIn('protoFile: "httptest/v1/things.proto"', self.routes)
        self.assertIn('public static let internalMethods: [String] = [\n        "httptest.v1.ThingService.Purge",\n',
                      self.routes)

    def test_openapi_paths_operations_and_parameters(self):
        doc = self.openapi
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertEqual(doc["info"]["version"], "httptest.v1")
        self.assertEqual(list(doc["paths"]), [
            "/v1/things/{thing_id}", "/v1/things/{thing_id}/versions/{version}", "/v1/things",
            "/v1/owners/{filter.owner}/things", "/v1/things:search", "/v1/uploads", "/v1/things/{thing_id}/data",
            "/v1/{thing_id}:watch",
        ])
        get_thing = doc["paths"]["/v1/things/{thing_id}"]["get"]
        self.assertEqual(get_thing["operationId"], "ThingService_GetThing")
        self.assertEqual(get_thing["summary"], "Returns a thing.")
        self.assertEqual(get_thing["tags"], ["ThingService"])
        self.assertEqual([(p["name"], p["in"]) for p in get_thing["parameters"]],
                         [("thing_id", "path"), ("version", "query")])
        self.assertEqual(doc["paths"]["/v1/things/{thing_id}/versions/{version}"]["get"]["operationId"],
                         "ThingService_GetThing2")
        # Query parameters by proto field path: nested fields, not into the enclosing message again,
        # no map, no repeated message; a Timestamp is one. A method callable without credentials
        # (sign-in) also takes the edge's own `session`.
        list_things = doc["paths"]["/v1/things"]["get"]
        self.assertEqual([p["name"] for p in list_things["parameters"]], [
            "page_size", "tags", "filter.owner", "filter.min_size", "since", "kind", "session",
        ])
        self.assertEqual(list_things["security"], [])
        self.assertEqual(list_things["parameters"][1]["schema"], {"type": "array", "items": {"type": "string"}})
        self.assertEqual(list_things["parameters"][3]["schema"], {"type": ["string", "integer"], "format": "int64"})
        owners = doc["paths"]["/v1/owners/{filter.owner}/things"]["get"]
        self.assertEqual([(p["name"], p["in"]) for p in owners["parameters"]][:2],
                         [("filter.owner", "path"), ("page_size", "query")])
        self.assertNotIn("filter.owner", [p["name"] for p in owners["parameters"] if p["in"] == "query"])
        # body "*": the request; body a field: that field, the rest in the query.
        search = doc["paths"]["/v1/things:search"]["post"]
        self.assertEqual(search["requestBody"]["content"]["application/json"]["schema"],
                         {"$ref": "#/components/schemas/httptest.v1.ListThingsRequest"})
        # Only the edge's own `session` (ListThings is callable without credentials here).
        self.assertEqual([p["name"] for p in search.get("parameters", [])], ["session"])
        create = doc["paths"]["/v1/things"]["post"]
        self.assertEqual(create["requestBody"]["content"]["application/json"]["schema"],
                         {"$ref": "#/components/schemas/httptest.v1.Thing"})
        self.assertEqual([p["name"] for p in create["parameters"]], ["request_id"])
        self.assertNotIn("security", create)

    def test_openapi_streaming_and_bytes(self):
        paths = self.openapi["paths"]
        upload = paths["/v1/uploads"]["post"]
        self.assertEqual(set(upload["requestBody"]["content"]), {"multipart/form-data", "application/octet-stream"})
        self.assertEqual(upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["file"]["format"],
                         "binary")
        # The upload's first message (the oneof's other member) from the query, by its own field names.
        self.assertEqual([p["name"] for p in upload["parameters"]], ["name", "tags"])
        download = paths["/v1/things/{thing_id}/data"]["get"]["responses"]["200"]["content"]
        self.assertEqual(list(download), ["application/octet-stream"])
        watch = paths["/v1/{thing_id}:watch"]["get"]["responses"]["200"]["content"]
        self.assertEqual(list(watch), ["text/event-stream"])
        self.assertIn("httptest.v1.Thing", watch["text/event-stream"]["schema"]["description"])
        for item in paths.values():
            for operation in item.values():
                self.assertEqual(operation["responses"]["4XX"], {"$ref": "#/components/responses/Error"})
                self.assertEqual(operation["responses"]["5XX"], {"$ref": "#/components/responses/Error"})

    def test_openapi_schemas_mirror_the_json_mapping(self):
        schemas = self.openapi["components"]["schemas"]
        thing = schemas["httptest.v1.Thing"]
        self.assertFalse(thing["additionalProperties"])
        self.assertNotIn("required", thing)
        props = thing["properties"]
        self.assertEqual(list(props), ["thingId", "name", "tags", "data", "score", "kind", "createdAt", "counts", "url",
                                       "inline", "big"])
        self.assertEqual(props["data"], {"type": "string", "contentEncoding": "base64"})
        self.assertEqual(props["score"]["oneOf"][0], {"type": "number", "format": "double"})
        self.assertEqual(props["kind"], {"$ref": "#/components/schemas/httptest.v1.Kind"})
        self.assertEqual(props["createdAt"], {"type": "string", "format": "date-time"})
        self.assertEqual(props["counts"], {"type": "object",
                                           "additionalProperties": {"type": ["string", "integer"], "format": "int64"}})
        self.assertIn("at most one of `url`, `inline` may be set", props["url"]["description"])
        self.assertEqual(props["big"], {"type": ["string", "integer"], "format": "uint64"})
        self.assertEqual(schemas["httptest.v1.Kind"]["enum"], ["KIND_UNSPECIFIED", "KIND_BIG"])
        # Only what the document references: GetThingRequest is all path and query.
        self.assertNotIn("httptest.v1.GetThingRequest", schemas)
        # The test contract has no agentplane.v1.ErrorDetails: the details are any object.
        self.assertEqual(schemas["Error"]["properties"]["details"], {"type": "object"})

    def test_openapi_is_valid_when_the_validator_is_installed(self):
        try:
            from openapi_spec_validator import validate
        except ImportError:
            self.skipTest("openapi-spec-validator is not installed (scripts/deps installs it)")
        validate(self.openapi)

    def test_markdown_table(self):
        self.assertIn("| GET | `/v1/things/{thing_id}/data` | ThingService.Download | server (response body: the content) |",
                      self.markdown)
        self.assertIn("| POST | `/v1/uploads` | ThingService.Upload | client (request body: the content) |",
                      self.markdown)
        self.assertIn("| GET | `/v1/{thing_id=things/*}:watch` | ThingService.Watch | server (SSE) |", self.markdown)
        self.assertIn("9 routes. Not served over HTTP (service tokens only): `ThingService.Purge`.", self.markdown)


class BadRulesTest(unittest.TestCase):
    """Every file of http_rules/bad/ makes protoc fail with its expected message."""

    def test_bad_files_fail_with_their_message(self):
        cases = sorted((RULES / "bad").glob("*.yaml"))
        self.assertGreater(len(cases), 20)
        with tempfile.TemporaryDirectory(prefix="http-rules-bad-") as out:
            for case in cases:
                with self.subTest(case=case.name):
                    expected = re.findall(r"^# expect: (.*)$", case.read_text(), re.M)
                    self.assertTrue(expected, f"{case.name} has no '# expect:' line")
                    if case.name.endswith(".internal.yaml"):
                        result = run_plugin(RULES / "good.yaml", case, out)
                    else:
                        result = run_plugin(case, RULES / "good_internal.yaml", out)
                    self.assertNotEqual(result.returncode, 0, f"{case.name} was accepted")
                    self.assertIn("--agentplane_out:", result.stderr)
                    for message in expected:
                        self.assertIn(message, result.stderr)
                    self.assertIn(str(case.relative_to(REPO)), result.stderr, "the message names the file")

    def test_a_missing_file_is_named(self):
        with tempfile.TemporaryDirectory(prefix="http-rules-bad-") as out:
            result = run_plugin(RULES / "good.yaml", RULES / "good_internal.yaml", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            missing = run_plugin(RULES / "good.yaml", HERE / "no-such-file.yaml", out)
            self.assertNotEqual(missing.returncode, 0)
            self.assertIn("cannot read Tests/Codegen/no-such-file.yaml", missing.stderr)


if __name__ == "__main__":
    unittest.main()
