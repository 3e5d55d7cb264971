/// Writes the OpenAPI 3.1.0 document of the HTTP API: a path per route, the request and response
/// schemas of every message they reach (named by full name, `agentplane.v1.Agent`), the error
/// response and the security schemes. The schemas mirror the proto3 JSON mapping of the edge's
/// transcoder (`jsonMapping` below says how; `info.description` tells the reader the same).
struct OpenAPIGenerator {
    let api: HTTPAPI
    let types: TypeTable

    /// The gRPC status names an error's `code` can have.
    static let statusNames = [
        "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    static let errorDetailsType = ".agentplane.v1.ErrorDetails"

    func document() throws -> JSONValue {
        var schemas = SchemaBuilder(types: types)
        var paths: [(key: String, value: JSONValue)] = []
        var tags: [(name: String, comment: String)] = []
        for binding in api.bindings {
            if !tags.contains(where: { $0.name == binding.service.name }) {
                tags.append((binding.service.name, binding.service.comment))
            }
            let path = binding.rule.template.openAPIPath
            let operation = try self.operation(binding, &schemas)
            if let index = paths.firstIndex(where: { $0.key == path }) {
                paths[index].value[binding.rule.verb.rawValue] = operation
            } else {
                paths.append((path, .object([(binding.rule.verb.rawValue, operation)])))
            }
        }
        // The error's details: agentplane.v1.ErrorDetails, or any object for a contract without it.
        let details: JSONValue =
            types.messages[Self.errorDetailsType] != nil
            ? try schemas.reference(Self.errorDetailsType) : ["type": "object"]
        var components: [(key: String, value: JSONValue)] = try schemas.components()
        components.append(("Error", Self.errorSchema(details: details)))
        // Sign-in and refresh also set up browser sessions (docs/EDGE.md): their answer then
        // carries the CSRF token beside the message's fields.
        let sessionResponses = Set(
            api.bindings.filter { api.noCredential.contains($0.selector) }.map(\.response.fullName))
        for index in components.indices where sessionResponses.contains(components[index].key) {
            var properties = components[index].value["properties"] ?? .object([])
            properties["csrfToken"] = [
                "type": "string",
                "description":
                    "Browser sessions only (`?session=true` on sign-in, or a refresh by the refresh cookie): the CSRF token, to send as the header `X-CSRF-Token` with unsafe methods. The tokens are then in cookies, not here.",
            ]
            components[index].value["properties"] = properties
        }
        components.sort { $0.key < $1.key }

        let packages = Set(
            api.bindings.map { String($0.service.fullName.split(separator: ".").dropLast().joined(separator: ".")) })
        var document: JSONValue = [
            "openapi": "3.1.0",
            "info": [
                "title": "Agentplane",
                "version": .string(packages.sorted().joined(separator: ", ")),
                "description": .string(Self.description(rulesFile: api.rulesFile)),
            ],
        ]
        document["tags"] = .array(
            tags.map { tag in
                var entry: JSONValue = ["name": .string(tag.name)]
                entry["description"] = Docs.text(tag.comment).map(JSONValue.string)
                return entry
            })
        document["security"] = [["bearerAuth": []], ["cookieAuth": []]]
        document["paths"] = .object(paths)
        document["components"] = [
            "schemas": .object(components),
            "responses": [
                "Error": [
                    "description": "The call failed: its gRPC status as JSON.",
                    "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
                ]
            ],
            "securitySchemes": [
                "bearerAuth": [
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT or API key",
                    "description":
                        "`Authorization: Bearer <token>`: an access token (a JWT from AuthService.Login or Refresh) or an API key.",
                ],
                "cookieAuth": [
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "agentplane_access",
                    "description":
                        "The access token in the `agentplane_access` cookie (the console's session). Unsafe methods (POST, PUT, PATCH, DELETE) must also send the header `X-CSRF-Token`.",
                ],
            ],
        ]
        return document
    }

    private static func description(rulesFile: String) -> String {
        """
        The Agentplane API as JSON over HTTP, served by the edge. Every operation is a gRPC method of the contract \
        (proto/agentplane/v1) bound by the google.api.http rules of \(rulesFile); requests and responses are its \
        messages in the proto3 JSON mapping.

        - Fields are named by their JSON names (lowerCamelCase). No field is required: an absent field has its \
        default value, and the server checks what it needs.
        - 64-bit integers are written as strings and read from strings or numbers; float and double are numbers, or \
        the strings "NaN", "Infinity" and "-Infinity"; bytes are base64; an enum is the name of one of its values.
        - A Timestamp is an RFC 3339 string, a Duration seconds with the suffix s ("1.5s"); a Struct is any object, \
        a Value any JSON value.
        - The members of a oneof are plain properties, of which at most one may be set.
        - GET and DELETE take the fields that are not in the path as query parameters, named by their proto field \
        paths (page_size, backend_config.kind); a repeated field is repeated (tags=a&tags=b).
        - Server-streaming methods answer with Server-Sent Events: each event's data is one response message.
        - An error is the call's gRPC status: {"code": "NOT_FOUND", "message": "...", "details": {...}}.

        Generated by protoc-gen-agentplane (scripts/generate) from the contract and \(rulesFile).
        """
    }

    private static func errorSchema(details: JSONValue) -> JSONValue {
        [
            "type": "object",
            "description": "A failed call's gRPC status.",
            "properties": [
                "code": [
                    "type": "string",
                    "description": "The gRPC status code's name.",
                    "enum": .array(statusNames.map(JSONValue.string)),
                ],
                "message": ["type": "string", "description": "What went wrong, for a person."],
                "details": details,
            ],
            "additionalProperties": false,
        ]
    }

    private func operation(_ binding: HTTPBinding, _ schemas: inout SchemaBuilder) throws -> JSONValue {
        let rule = binding.rule
        var operation: JSONValue = ["tags": [.string(binding.service.name)]]
        if let text = Docs.text(binding.method.comment) {
            operation["summary"] = .string(Docs.summary(text))
            operation["description"] = .string(text)
        }
        operation["operationId"] = .string(binding.operationID)

        var parameters: [JSONValue] = []
        for variable in rule.template.variables {
            let field = fieldAt(variable, in: binding.request)
            var parameter: JSONValue = [
                "name": .string(variable.joined(separator: ".")), "in": "path", "required": true,
            ]
            parameter["description"] = Docs.text(field.comment).map(JSONValue.string)
            parameter["schema"] = try schemas.schema(for: field, described: false)
            parameters.append(parameter)
        }
        let bodyField = binding.bodyField
        if let header = uploadHeader(binding) {
            parameters += try queryParameters(
                of: header, prefix: [], bound: [], skipping: nil, visiting: [binding.request.fullName], &schemas)
        } else if rule.body == nil || bodyField != nil {
            parameters += try queryParameters(
                of: binding.request, prefix: [], bound: Set(rule.template.variables), skipping: bodyField?.name,
                visiting: [], &schemas)
        }
        if api.noCredential.contains(binding.selector) {
            parameters.append([
                "name": "session", "in": "query", "required": false,
                "description":
                    "true: a browser session: the tokens are set as HttpOnly cookies (agentplane_access, agentplane_refresh) and left out of the answer, which carries `csrfToken` instead.",
                "schema": ["type": "boolean"],
            ])
        }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }

        if let bodyField, bodyField.kind == .bytes, bodyField.label == .singular {
            operation["requestBody"] = [
                "description": .string(
                    "The content (`\(bodyField.name)`), as the part `file` of a form or as the whole body; "
                        + "the other fields are query parameters."),
                "required": true,
                "content": [
                    "multipart/form-data": [
                        "schema": [
                            "type": "object", "properties": ["file": Self.binary], "required": ["file"],
                        ]
                    ],
                    "application/octet-stream": ["schema": Self.binary],
                ],
            ]
        } else if let bodyField {
            operation["requestBody"] = [
                "description": .string("The request's field `\(bodyField.name)`."),
                "content": ["application/json": ["schema": try schemas.schema(for: bodyField)]],
            ]
        } else if rule.body == "*" {
            operation["requestBody"] = [
                "description": .string(
                    "The request (\(binding.request.fullName))"
                        + (rule.template.variables.isEmpty ? "." : "; the fields bound in the path come from the path.")
                ),
                "content": ["application/json": ["schema": try schemas.reference("." + binding.request.fullName)]],
            ]
        }

        operation["responses"] = [
            "200": try successResponse(binding, &schemas),
            "4XX": ["$ref": "#/components/responses/Error"],
            "5XX": ["$ref": "#/components/responses/Error"],
        ]
        if api.noCredential.contains(binding.selector) { operation["security"] = [] }
        return operation
    }

    private static let binary: JSONValue = [
        "type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
    ]

    private func successResponse(_ binding: HTTPBinding, _ schemas: inout SchemaBuilder) throws -> JSONValue {
        let responseField = binding.responseBodyField
        if let responseField, responseField.kind == .bytes, responseField.label == .singular {
            let streamed = binding.method.serverStreaming ? ", streamed as it is read" : ""
            return [
                "description": .string(
                    "The content (`\(responseField.name)` of \(binding.response.fullName))\(streamed)."),
                "content": ["application/octet-stream": ["schema": Self.binary]],
            ]
        }
        let what: String
        let schema: JSONValue
        if let responseField {
            what = "the field `\(responseField.jsonName)` of \(binding.response.fullName)"
            schema = try schemas.schema(for: responseField)
        } else {
            what = binding.response.fullName
            schema = try schemas.reference("." + binding.response.fullName)
        }
        if binding.method.serverStreaming {
            let named = responseField == nil ? " (#/components/schemas/\(binding.response.fullName))" : ""
            return [
                "description": .string("A stream of Server-Sent Events, one per message (\(what))."),
                "content": [
                    "text/event-stream": [
                        // One event: its `data` is the message (or, for `event: error`, the error) in JSON.
                        "schema": [
                            "type": "object",
                            "description": .string(
                                "One Server-Sent Event: its data is \(what)\(named) in JSON; `event` names the set "
                                    + "top-level oneof member (else `message`), `id` the run event's sequence. A "
                                    + "failure after the stream started ends it with an event `error` whose data is "
                                    + "the error (#/components/schemas/Error)."),
                            "properties": [
                                "event": ["type": "string"],
                                "id": ["type": "string"],
                                "retry": ["type": "integer"],
                                "data": [
                                    "type": "string",
                                    "contentMediaType": "application/json",
                                    "contentSchema": [
                                        "anyOf": [schema, ["$ref": "#/components/schemas/Error"]]
                                    ],
                                ],
                            ],
                            "required": ["data"],
                            "additionalProperties": false,
                        ]
                    ]
                ],
            ]
        }
        return ["description": .string("The response (\(what))."), "content": ["application/json": ["schema": schema]]]
    }

    /// An upload's first message: for a client-streaming method whose body is one member of a
    /// oneof (the content) and whose oneof has one other member, a message (the metadata), that
    /// message. The edge sends it first, from the query parameters named by its own fields (`name`,
    /// not `metadata.name`), then the body in chunks.
    private func uploadHeader(_ binding: HTTPBinding) -> MessageType? {
        guard binding.method.clientStreaming, let body = binding.bodyField, let oneof = body.oneofIndex else {
            return nil
        }
        let others = binding.request.oneofMembers(oneof).filter { $0.name != body.name }
        guard others.count == 1, let header = others.first, header.kind == .message, header.label == .singular else {
            return nil
        }
        return types.message(header.typeName)
    }

    /// The field a checked path variable names.
    private func fieldAt(_ path: [String], in message: MessageType) -> Field {
        var current = message
        for name in path.dropLast() {
            current = types.message(current.fields.first { $0.name == name }!.typeName)
        }
        return current.fields.first { $0.name == path.last! }!
    }

    /// Every field a query parameter can carry, by proto field path: scalars, strings, bytes, enums,
    /// Timestamps and Durations, repeated or not, nested messages walked (not into a message that
    /// encloses them); maps, Struct/Value/ListValue and repeated messages cannot be a query parameter.
    private func queryParameters(
        of message: MessageType, prefix: [String], bound: Set<[String]>, skipping: String?, visiting: Set<String>,
        _ schemas: inout SchemaBuilder
    ) throws -> [JSONValue] {
        var parameters: [JSONValue] = []
        let visiting = visiting.union([message.fullName])
        for field in message.fields where prefix.isEmpty ? field.name != skipping : true {
            let path = prefix + [field.name]
            if bound.contains(path) || FieldPaths.isMap(field, types: types) { continue }
            if field.kind == .message {
                if SchemaBuilder.queryableWellKnownTypes.contains(field.typeName) {
                    // a leaf, below
                } else if field.label == .repeated || field.typeName.hasPrefix(".google.protobuf.") {
                    continue
                } else {
                    let nested = types.message(field.typeName)
                    if visiting.contains(nested.fullName) { continue }
                    parameters += try queryParameters(
                        of: nested, prefix: path, bound: bound, skipping: nil,
                        visiting: visiting, &schemas)
                    continue
                }
            }
            var parameter: JSONValue = ["name": .string(path.joined(separator: ".")), "in": "query"]
            parameter["description"] = Docs.text(field.comment).map(JSONValue.string)
            parameter["schema"] = try schemas.schema(for: field, described: false)
            parameters.append(parameter)
        }
        return parameters
    }
}

/// The JSON Schemas of fields and messages, and the components they reference.
struct SchemaBuilder {
    let types: TypeTable
    /// Full names (with the leading dot) of the messages and enums referenced so far, in order.
    private var referenced: [String] = []
    private var referencedSet: Set<String> = []

    /// The well-known types written as strings, which a query parameter can carry.
    static let queryableWellKnownTypes: Set<String> = [".google.protobuf.Timestamp", ".google.protobuf.Duration"]

    init(types: TypeTable) { self.types = types }

    /// A `$ref` to a message's or enum's component, or the inline schema of a well-known type.
    mutating func reference(_ typeName: String) throws -> JSONValue {
        if let wellKnown = try Self.wellKnown(typeName) { return wellKnown }
        if referencedSet.insert(typeName).inserted { referenced.append(typeName) }
        return ["$ref": .string("#/components/schemas/" + typeName.dropFirst())]
    }

    private static func wellKnown(_ typeName: String) throws -> JSONValue? {
        switch typeName {
        case ".google.protobuf.Timestamp": return ["type": "string", "format": "date-time"]
        case ".google.protobuf.Duration": return ["type": "string", "pattern": #"^-?[0-9]+(\.[0-9]{1,9})?s$"#]
        case ".google.protobuf.Struct": return ["type": "object"]
        case ".google.protobuf.Value": return [:]
        case ".google.protobuf.ListValue": return ["type": "array"]
        case ".google.protobuf.NullValue": return ["type": "null"]
        case ".google.protobuf.Empty": return ["type": "object", "additionalProperties": false]
        case _ where typeName.hasPrefix(".google.protobuf."):
            throw PluginError(
                description: "the HTTP API reaches \(typeName.dropFirst()), whose JSON form the edge does not map")
        default: return nil
        }
    }

    /// A field's schema with its comment as description: arrays for repeated fields, objects for maps.
    mutating func schema(for field: Field, oneofNote: String? = nil, described: Bool = true) throws -> JSONValue {
        var schema: JSONValue
        if field.kind == .message, field.label == .repeated, types.message(field.typeName).isMapEntry {
            let entry = types.message(field.typeName)
            let key = entry.fields[0]
            let value = entry.fields[1]
            schema = ["type": "object"]
            switch key.kind {
            case .string: break
            case .bool: schema["propertyNames"] = ["enum": ["true", "false"]]
            default: schema["propertyNames"] = ["pattern": "^-?[0-9]+$"]
            }
            schema["additionalProperties"] = try single(value)
        } else if field.label == .repeated {
            schema = ["type": "array", "items": try single(field)]
        } else {
            schema = try single(field)
        }
        let description = [Docs.text(field.comment), oneofNote].compactMap { $0 }.joined(separator: "\n\n")
        if described, !description.isEmpty {
            if case .object(let members) = schema {
                schema = .object(members.filter { $0.key != "description" } + [("description", .string(description))])
            }
        }
        return schema
    }

    /// The schema of one value of a field, whatever its label.
    private mutating func single(_ field: Field) throws -> JSONValue {
        switch field.kind {
        case .int64, .sint64, .sfixed64: return ["type": ["string", "integer"], "format": "int64"]
        case .uint64, .fixed64: return ["type": ["string", "integer"], "format": "uint64"]
        case .int32, .sint32, .sfixed32: return ["type": "integer", "format": "int32"]
        case .uint32, .fixed32: return ["type": "integer", "format": "uint32"]
        case .double, .float:
            return [
                "oneOf": [
                    ["type": "number", "format": field.kind == .double ? "double" : "float"],
                    ["type": "string", "enum": ["NaN", "Infinity", "-Infinity"]],
                ]
            ]
        case .bool: return ["type": "boolean"]
        case .string: return ["type": "string"]
        case .bytes: return ["type": "string", "contentEncoding": "base64"]
        case .enumeration, .message: return try reference(field.typeName)
        case .group: throw PluginError(description: "groups are not supported (field \(field.name))")
        }
    }

    /// The components of every message and enum referenced, and of those they reference in turn,
    /// by full name.
    mutating func components() throws -> [(key: String, value: JSONValue)] {
        var result: [(key: String, value: JSONValue)] = []
        var index = 0
        while index < referenced.count {
            let typeName = referenced[index]
            index += 1
            if let message = types.messages[typeName] {
                result.append((message.fullName, try schema(of: message)))
            } else if let enumType = types.enums[typeName] {
                result.append((String(typeName.dropFirst()), Self.schema(of: enumType)))
            } else {
                throw PluginError(description: "unknown type \(typeName.dropFirst())")
            }
        }
        return result
    }

    private mutating func schema(of message: MessageType) throws -> JSONValue {
        var schema: JSONValue = ["type": "object"]
        schema["description"] = Docs.text(message.comment).map(JSONValue.string)
        var properties: [(key: String, value: JSONValue)] = []
        for field in message.fields {
            var note: String?
            if let oneof = field.oneofIndex {
                let members = message.oneofMembers(oneof).map { "`\($0.jsonName)`" }.joined(separator: ", ")
                note = "Member of the oneof `\(message.oneofNames[oneof])`: at most one of \(members) may be set."
            }
            properties.append((field.jsonName, try self.schema(for: field, oneofNote: note)))
        }
        if !properties.isEmpty { schema["properties"] = .object(properties) }
        schema["additionalProperties"] = false
        return schema
    }

    private static func schema(of type: EnumType) -> JSONValue {
        var schema: JSONValue = ["type": "string"]
        let values = type.values.compactMap { value in
            Docs.text(value.comment).map { "- `\(value.name)`: " + $0.replacingNewlines() }
        }
        let description =
            ([Docs.text(type.comment)].compactMap { $0 } + (values.isEmpty ? [] : [values.joined(separator: "\n")]))
            .joined(separator: "\n\n")
        if !description.isEmpty { schema["description"] = .string(description) }
        schema["enum"] = .array(type.values.map { .string($0.name) })
        return schema
    }
}

/// Comments from the .proto, as documentation text.
enum Docs {
    /// The comment without the space after `//`, trailing blanks and blank first or last lines;
    /// nil when nothing is left.
    static func text(_ comment: String) -> String? {
        var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let text = line.hasPrefix(" ") ? line.dropFirst() : line[...]
            return String(text.reversed().drop(while: { $0 == " " }).reversed())
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    /// The first sentence of a text, on one line.
    static func summary(_ text: String) -> String {
        let paragraph = String(text.split(separator: "\n\n", omittingEmptySubsequences: false)[0]).replacingNewlines()
        var rest = paragraph[...]
        while let range = rest.firstRange(of: ". ") {
            let before = paragraph[..<range.lowerBound]
            if !(before.hasSuffix("e.g") || before.hasSuffix("i.e") || before.hasSuffix("etc")) {
                return String(paragraph[..<range.upperBound].dropLast())
            }
            rest = rest[range.upperBound...]
        }
        return paragraph
    }
}

extension String {
    /// Lines joined with single spaces.
    fileprivate func replacingNewlines() -> String {
        split(separator: "\n").map { String($0).trimmingWhitespace() }.joined(separator: " ")
    }
}
