import FlowEngine
import RPCModels

/// Each tool kind's JSON Schemas: its config and its secrets. ListToolKinds serves them and
/// `ToolKindRules` validates every saved config and secret name against the same values, so the
/// console's forms and the server's checks come from one place. The rules between fields (a
/// Zammad backend needs a base URL) are in the descriptions and in `ToolKindRules`.
enum ToolKindSchemas {
    /// One kind: its title, description and the two schemas.
    struct Entry: Sendable {
        var kind: Agentplane_V1_ToolKind
        var title: String
        var description: String
        var config: [String: JSONValue]
        var secrets: [String: JSONValue]
    }

    /// Every kind CreateTool accepts, in the order ListToolKinds answers them.
    static let all: [Entry] = [kbSearch, ticketing, notification, llm, http]

    /// The entry of `kind`; nil for a kind tools cannot have.
    static func entry(_ kind: Agentplane_V1_ToolKind) -> Entry? { all.first { $0.kind == kind } }

    private static func string(
        _ title: String, _ description: String, enum values: [String]? = nil, default value: String? = nil,
        format: String? = nil, maxLength: Int = 2000
    ) -> JSONValue {
        var schema: [String: JSONValue] = [
            "type": .string("string"), "title": .string(title), "description": .string(description),
            "maxLength": .number(Double(maxLength)),
        ]
        if let values { schema["enum"] = .array(values.map(JSONValue.string)) }
        if let value { schema["default"] = .string(value) }
        if let format { schema["format"] = .string(format) }
        return .object(schema)
    }

    private static func number(
        _ type: String, _ title: String, _ description: String, _ range: ClosedRange<Double>, default value: Double?
    ) -> JSONValue {
        var schema: [String: JSONValue] = [
            "type": .string(type), "title": .string(title), "description": .string(description),
            "minimum": .number(range.lowerBound), "maximum": .number(range.upperBound),
        ]
        if let value { schema["default"] = .number(value) }
        return .object(schema)
    }

    private static func strings(_ title: String, _ description: String) -> JSONValue {
        .object([
            "type": .string("array"), "title": .string(title), "description": .string(description),
            "items": .object(["type": .string("string"), "maxLength": .number(200)]),
        ])
    }

    /// An object schema of `properties`, each marked with its place in the form
    /// (`propertyOrder`, the order written here: JSON objects keep none).
    private static func object(_ properties: KeyValuePairs<String, JSONValue>, required: [String] = [])
        -> [String: JSONValue]
    {
        var members: [String: JSONValue] = [:]
        for (index, (name, property)) in properties.enumerated() {
            var schema = property.objectValue ?? [:]
            schema["propertyOrder"] = .number(Double(index + 1))
            members[name] = .object(schema)
        }
        var schema: [String: JSONValue] = [
            "type": .string("object"), "properties": .object(members), "additionalProperties": .bool(false),
        ]
        if !required.isEmpty { schema["required"] = .array(required.map(JSONValue.string)) }
        return schema
    }

    private static func secret(_ title: String, _ description: String) -> JSONValue {
        .object([
            "type": .string("string"), "title": .string(title), "description": .string(description),
            "writeOnly": .bool(true),
        ])
    }

    private static func secrets(
        _ properties: KeyValuePairs<String, JSONValue>, anyName: Bool = false, description: String? = nil
    ) -> [String: JSONValue] {
        var schema = object(properties)
        schema["additionalProperties"] = .bool(anyName)
        if let description { schema["description"] = .string(description) }
        return schema
    }

    static let kbSearch = Entry(
        kind: .kbSearch, title: "Knowledge base search",
        description: "Searches the tenant's documents; the model passes a query.",
        config: object([
            "top_k": number("integer", "Results", "How many chunks a search returns.", 1...50, default: 5),
            "mode": string(
                "Mode", "Lexical (words), vector (meaning) or hybrid (both).", enum: ["hybrid", "lexical", "vector"],
                default: "hybrid"),
            "min_score": number(
                "number", "Minimum score", "Hits scoring below are left out.", 0...1_000_000, default: 0),
            "tags": strings("Tags", "Only documents with all of these tags."),
            "document_ids": strings("Documents", "Only these documents (ids)."),
        ]),
        secrets: secrets([:]))

    static let ticketing = Entry(
        kind: .ticketing, title: "Ticketing",
        description: "Creates, reads and updates tickets in the built-in store or in Zammad.",
        config: object([
            "backend": string(
                "Backend", "The built-in ticket store, or a Zammad server (which needs a base URL and an API token).",
                enum: ["builtin", "zammad"], default: "builtin"),
            "base_url": string(
                "Zammad URL", "The Zammad server, e.g. https://support.example.com (backend zammad only).",
                format: "uri"),
            "group_name": string("Group", "The Zammad group new tickets go to.", maxLength: 200),
        ]),
        secrets: secrets(["api_token": secret("Zammad API token", "Required with backend zammad.")]))

    static let notification = Entry(
        kind: .notification, title: "Notification",
        description: "Sends a message to Slack, Teams, a signed webhook, or the log.",
        config: object([
            "channel": string(
                "Channel", "Where messages go; every channel but log needs the URL secret.",
                enum: ["log", "slack", "teams", "webhook"], default: "log"),
            "channel_name": string("Channel name", "Shown in the message (e.g. #support).", maxLength: 200),
            "severity": string(
                "Severity", "The default severity of a message.", enum: ["info", "warning", "critical"],
                default: "info"),
        ]),
        secrets: secrets([
            "url": secret("Webhook URL", "The incoming-webhook URL (channels slack, teams and webhook)."),
            "signing_secret": secret("Signing secret", "Signs a generic webhook's body (HMAC-SHA256)."),
        ]))

    static let llm = Entry(
        kind: .llm, title: "Language model",
        description: "Asks the tenant's model a question with a fixed system prompt.",
        config: object([
            "model": string("Model", "Empty: the tenant's default chat model.", maxLength: 200),
            "system_prompt": string("System prompt", "Sent before the question.", maxLength: 20_000),
            "max_tokens": number("integer", "Max tokens", "The longest answer.", 1...1_000_000, default: nil),
            "json_output": .object([
                "type": .string("boolean"), "title": .string("JSON output"),
                "description": .string("Ask the model for a JSON object."),
                "default": .bool(false),
            ]),
        ]),
        secrets: secrets([:]))

    static let http = Entry(
        kind: .http, title: "HTTP request",
        description: "Calls an HTTP API with the model's arguments as the JSON body (or query, for GET).",
        config: object(
            [
                "url": string("URL", "The endpoint, http or https.", format: "uri"),
                "method": string(
                    "Method", "The HTTP method.", enum: ["GET", "POST", "PUT", "PATCH", "DELETE"], default: "POST"),
                "headers": .object([
                    "type": .string("object"), "title": .string("Headers"),
                    "description": .string("Headers sent with every call (not secret)."),
                    "additionalProperties": .object(["type": .string("string"), "maxLength": .number(2000)]),
                ]),
            ], required: ["url"]),
        secrets: secrets(
            [:], anyName: true,
            description: "Each secret is sent as a header of its name (e.g. Authorization), only to the URL's origin."))
}
