import FlowEngine
import Foundation
import RPCModels
import RuntimeHTTP
import ToolRouting

/// What each tool kind accepts in `config` and `secrets`, checked on every save so a saved tool
/// can always be executed. The per-field rules are the kind's JSON Schemas (`ToolKindSchemas`, the
/// very values ListToolKinds serves); the rules between fields and the URL checks are here.
/// Problems are (field, code, explanation), like argument violations.
enum ToolKindRules {
    static let supported: [Agentplane_V1_ToolKind] = ToolKindSchemas.all.map(\.kind)

    /// The origin (`scheme://host:port`) a tool of `kind` sends its secrets to; "" when they go
    /// nowhere outside the platform (no secrets, a built-in backend, the log channel). A tool's
    /// secrets are bound to it: they are sealed for it, and sent only while the tool still
    /// points there.
    static func secretOrigin(
        kind: Agentplane_V1_ToolKind, config: [String: JSONValue], secrets: [String: String]
    ) -> String {
        let url: String? =
            switch kind {
            case .http: config["url"]?.stringValue
            case .ticketing: config["backend"]?.stringValue == "zammad" ? config["base_url"]?.stringValue : nil
            case .notification: (config["channel"]?.stringValue ?? "log") == "log" ? nil : secrets["url"]
            default: nil
            }
        return url.flatMap { OutboundOrigin(string: $0)?.description } ?? ""
    }

    /// Whether the origin of a kind's secrets depends on a secret value (a notification tool's
    /// `url`) rather than on its config alone.
    static func originNeedsSecrets(_ kind: Agentplane_V1_ToolKind) -> Bool { kind == .notification }

    static func problems(
        kind: Agentplane_V1_ToolKind, config: [String: JSONValue], secretNames: Set<String>
    ) -> [ToolArgumentValidator.Violation] {
        guard let entry = ToolKindSchemas.entry(kind) else {
            return [("kind", "UNKNOWN_KIND", "kind must be one of kb_search, ticketing, notification, llm, http")]
        }
        var found = ToolArgumentValidator.violations(.object(config), schema: entry.config, path: "config")
        func add(_ field: String, _ code: String, _ explanation: String) { found.append((field, code, explanation)) }
        let declared = Set((entry.secrets["properties"]?.objectValue ?? [:]).keys)
        if entry.secrets["additionalProperties"] != .bool(true) {
            for name in secretNames.sorted() where !declared.contains(name) {
                add(
                    "secrets." + name, "UNKNOWN_SECRET",
                    declared.isEmpty
                        ? "this kind takes no secrets"
                        : "secrets.\(name) is not used by this kind; use \(declared.sorted())")
            }
        }
        // Every `format: uri` field: an http(s) URL with a host.
        let properties = entry.config["properties"]?.objectValue ?? [:]
        for (key, schema) in properties.sorted(by: { $0.key < $1.key })
        where schema.objectValue?["format"]?.stringValue == "uri" {
            guard let text = config[key]?.stringValue else { continue }
            let url = URL(string: text)
            if url?.host == nil || !["http", "https"].contains(url?.scheme?.lowercased() ?? "") {
                add("config." + key, "INVALID_URL", "config.\(key) must be an http(s) URL")
            }
        }
        switch kind {
        case .ticketing where config["backend"]?.stringValue == "zammad":
            if config["base_url"] == nil {
                add("config.base_url", "MISSING_FIELD", "a zammad ticketing tool needs config.base_url")
            }
            if !secretNames.contains("api_token") {
                add("secrets.api_token", "MISSING_SECRET", "a zammad ticketing tool needs secrets.api_token")
            }
        case .notification:
            let channel = config["channel"]?.stringValue ?? "log"
            if channel != "log", !secretNames.contains("url") {
                add("secrets.url", "MISSING_SECRET", "a \(channel) notification tool needs secrets.url")
            }
        case .http:
            let token = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
            for name in secretNames.sorted() where !name.allSatisfy(token.contains) {
                add(
                    "secrets." + name, "INVALID_HEADER_NAME",
                    "an http tool's secrets are sent as headers: use a header name")
            }
        default: break
        }
        return found
    }
}
