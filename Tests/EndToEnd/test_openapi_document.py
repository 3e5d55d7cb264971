"""The edge's OpenAPI document, as committed in Sources/Services/Edge/Generated/OpenAPIDocument.pb.swift.

The platform is not needed: the JSON is taken out of the generated Swift file's raw string literal,
validated as OpenAPI 3.1 by openapi-spec-validator (scripts/deps installs it), and checked against
the HTTP rules beside the contract: every binding of proto/agentplane/v1/http.yaml is an operation,
no RPC of http_internal.yaml is one, and every RPC of the contract is in exactly one of the two.
"""

from __future__ import annotations

import functools
import json
import pathlib
import re
import textwrap
import unittest

import yaml
from openapi_spec_validator import validate

REPO = pathlib.Path(__file__).resolve().parents[2]
GENERATED = REPO / "Sources" / "Services" / "Edge" / "Generated"
RULES = REPO / "proto" / "agentplane" / "v1" / "http.yaml"
INTERNAL = REPO / "proto" / "agentplane" / "v1" / "http_internal.yaml"
VERBS = ("get", "put", "post", "delete", "patch")


@functools.cache
def document() -> dict:
    """The OpenAPI document: the JSON in OpenAPIDocument.json's raw string literal."""
    source = (GENERATED / "OpenAPIDocument.pb.swift").read_text(encoding="utf-8")
    match = re.search(r'public static let json: String = (#+)"""\n(.*?)\n[ ]*"""\1$', source, re.S | re.M)
    if match is None:
        raise AssertionError("OpenAPIDocument.pb.swift holds no raw string literal")
    return json.loads(textwrap.dedent(match.group(2)))


@functools.cache
def bindings() -> list[tuple[str, str, str, str]]:
    """Every binding of http.yaml: (selector, verb, path template, OpenAPI operationId), in file order."""
    with open(RULES, encoding="utf-8") as file:
        config = yaml.safe_load(file)
    result = []
    for rule in config["http"]["rules"]:
        selector = rule["selector"]
        service, method = selector.split(".")[-2:]
        for index, binding in enumerate([rule] + rule.get("additional_bindings", [])):
            (verb,) = [key for key in VERBS if key in binding]
            result.append((selector, verb, binding[verb], f"{service}_{method}" + (str(index + 1) if index else "")))
    return result


@functools.cache
def internal_lists() -> dict:
    with open(INTERNAL, encoding="utf-8") as file:
        return yaml.safe_load(file)


def openapi_path(template: str) -> str:
    """/v1/{name=things/*}:verb → /v1/{name}:verb, as the plugin writes paths."""
    return re.sub(r"\{([A-Za-z0-9_.]+)(=[^}]*)?\}", r"{\1}", template)


def contract_methods() -> set[str]:
    """Every RPC of proto/agentplane/v1, as package.Service.Method."""
    methods = set()
    for proto in sorted((REPO / "proto" / "agentplane" / "v1").glob("*.proto")):
        text = proto.read_text(encoding="utf-8")
        package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
        for service, body in re.findall(r"^service (\w+) \{(.*?)^\}", text, re.S | re.M):
            methods.update(f"{package}.{service}.{name}" for name in re.findall(r"^\s*rpc (\w+)\(", body, re.M))
    return methods


def operations() -> dict[str, tuple[str, str, dict]]:
    """Every operation of the document by operationId: (path, verb, operation)."""
    result = {}
    for path, item in document()["paths"].items():
        for verb, operation in item.items():
            result[operation["operationId"]] = (path, verb, operation)
    return result


class OpenAPIDocumentTest(unittest.TestCase):
    def test_is_valid_openapi_3_1(self):
        self.assertEqual(document()["openapi"], "3.1.0")
        self.assertEqual(document()["info"]["title"], "Agentplane")
        self.assertEqual(document()["info"]["version"], "agentplane.v1")
        validate(document())

    def test_every_binding_of_http_yaml_is_an_operation(self):
        ops = operations()
        self.assertEqual(len(ops), len(bindings()), "one operation per binding")
        for selector, verb, template, operation_id in bindings():
            with self.subTest(binding=f"{verb.upper()} {template}"):
                self.assertIn(operation_id, ops)
                self.assertEqual(ops[operation_id][:2], (openapi_path(template), verb))
                self.assertEqual(ops[operation_id][2]["tags"], [selector.split(".")[-2]])

    def test_the_fixed_paths(self):
        ops = operations()
        expected = {
            "AuthService_Login": ("/v1/auth/login", "post"),
            "AuthService_Refresh": ("/v1/auth/refresh", "post"),
            "AgentService_ListAgents": ("/v1/agents", "get"),
            "AgentService_CreateAgent": ("/v1/agents", "post"),
            "AgentService_GetAgent": ("/v1/agents/{agent_id}", "get"),
            "ConversationService_CreateConversation": ("/v1/conversations", "post"),
            "ConversationService_SendMessage": ("/v1/conversations/{conversation_id}/messages", "post"),
            "ExecutionService_GetRun": ("/v1/runs/{run_id}", "get"),
            "DocumentService_UploadDocument": ("/v1/documents", "post"),
            "DocumentService_DownloadDocument": ("/v1/documents/{document_id}/content", "get"),
            "KnowledgeBaseService_Search": ("/v1/kb/search", "post"),
            "UserService_CreateApiKey": ("/v1/users/me/api-keys", "post"),
        }
        for operation_id, where in expected.items():
            with self.subTest(operation=operation_id):
                self.assertEqual(ops[operation_id][:2], where)

    def test_no_internal_rpc_is_an_operation(self):
        internal = internal_lists()["internal"]
        self.assertTrue(internal)
        ids = set(operations())
        for selector in internal:
            service, method = selector.split(".")[-2:]
            with self.subTest(selector=selector):
                self.assertFalse([i for i in ids if re.fullmatch(f"{service}_{method}[0-9]*", i)])

    def test_every_rpc_is_exposed_or_internal_never_both(self):
        exposed = {selector for selector, *_ in bindings()}
        internal = set(internal_lists()["internal"])
        self.assertEqual(exposed & internal, set())
        self.assertEqual(exposed | internal, contract_methods())

    def test_security(self):
        doc = document()
        self.assertEqual(doc["security"], [{"bearerAuth": []}, {"cookieAuth": []}])
        schemes = doc["components"]["securitySchemes"]
        self.assertEqual((schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]), ("http", "bearer"))
        self.assertEqual((schemes["cookieAuth"]["type"], schemes["cookieAuth"]["in"], schemes["cookieAuth"]["name"]),
                         ("apiKey", "cookie", "agentplane_access"))
        self.assertIn("X-CSRF-Token", schemes["cookieAuth"]["description"])
        open_ops = {i for i, (_, _, op) in operations().items() if "security" in op}
        self.assertEqual(open_ops, {"AuthService_Login", "AuthService_Refresh"})
        for operation_id in open_ops:
            self.assertEqual(operations()[operation_id][2]["security"], [])

    def test_errors_streams_and_documents(self):
        doc = document()
        schemas = doc["components"]["schemas"]
        self.assertIn("agentplane.v1.ErrorDetails", schemas)
        error = schemas["Error"]["properties"]
        self.assertEqual(error["details"], {"$ref": "#/components/schemas/agentplane.v1.ErrorDetails"})
        self.assertIn("NOT_FOUND", error["code"]["enum"])
        ops = operations()
        for _, _, operation in ops.values():
            self.assertEqual(operation["responses"]["4XX"], {"$ref": "#/components/responses/Error"})
            self.assertEqual(operation["responses"]["5XX"], {"$ref": "#/components/responses/Error"})
        send = ops["ConversationService_SendMessage"][2]["responses"]["200"]["content"]
        self.assertEqual(list(send), ["text/event-stream"])
        self.assertIn("agentplane.v1.SendMessageResponse", send["text/event-stream"]["schema"]["description"])
        upload = ops["DocumentService_UploadDocument"][2]
        self.assertEqual(set(upload["requestBody"]["content"]), {"multipart/form-data", "application/octet-stream"})
        # The metadata (the first message) from the query, by UploadDocumentMetadata's field names.
        self.assertEqual([p["name"] for p in upload["parameters"]], ["name", "content_type", "tags", "skip_indexing"])
        download = ops["DocumentService_DownloadDocument"][2]["responses"]["200"]["content"]
        self.assertEqual(list(download), ["application/octet-stream"])

    def test_schemas_use_json_names_and_allow_nothing_else(self):
        schemas = document()["components"]["schemas"]
        agent = schemas["agentplane.v1.Agent"]
        self.assertFalse(agent["additionalProperties"])
        self.assertIn("latestVersion", agent["properties"])
        for name, schema in schemas.items():
            if schema.get("type") == "object" and name != "Error":
                with self.subTest(schema=name):
                    self.assertIs(schema["additionalProperties"], False)
                    self.assertNotIn("required", schema)
                    for prop in schema.get("properties", {}):
                        self.assertRegex(prop, r"^[a-z][A-Za-z0-9]*$")

    def test_route_table_matches(self):
        routes = (GENERATED / "HTTPRoutes.pb.swift").read_text(encoding="utf-8")
        table = re.findall(r'verb: \.(\w+), path: "([^"]*)"', routes)
        self.assertEqual(table, [(verb, template) for _, verb, template, _ in bindings()])
        listed = re.search(r"internalMethods: \[String\] = \[(.*?)\]", routes, re.S).group(1)
        self.assertEqual(re.findall(r'"([^"]+)"', listed), internal_lists()["internal"])


if __name__ == "__main__":
    unittest.main()
