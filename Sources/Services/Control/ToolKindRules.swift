import FlowEngine
import Foundation
import RPCModels
import RuntimeHTTP
import ToolRouting

/// What each tool kind accepts in `config` and `secrets`, checked on every save so a saved tool
/// can always be executed. Problems are (field, code, explanation), like argument violations.
enum ToolKindRules {
    static let supported: [Agentplane_V1_ToolKind] = [.kbSearch, .ticketing, .notification, .llm, .http]

    /// Config keys each kind understands; others are refused so typos surface at save time.
    static func configKeys(_ kind: Agentplane_V1_ToolKind) -> Set<String> {
        switch kind {
        case .kbSearch: ["top_k", "mode", "tags", "document_ids", "min_score"]
        case .ticketing: ["backend", "base_url", "group_name"]
        case .notification: ["channel", "channel_name", "severity"]
        case .llm: ["model", "system_prompt", "max_tokens", "json_output"]
        case .http: ["url", "method", "headers"]
        default: []
        }
    }

    /// Secret names each kind uses; nil: any name (the http tool sends each as a header).
    static func allowedSecretNames(_ kind: Agentplane_V1_ToolKind) -> Set<String>? {
        switch kind {
        case .ticketing: ["api_token"]
        case .notification: ["url", "signing_secret"]
        case .http: nil
        default: []
        }
    }

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
        var found: [ToolArgumentValidator.Violation] = []
        func add(_ field: String, _ code: String, _ explanation: String) { found.append((field, code, explanation)) }
        let known = configKeys(kind)
        for key in config.keys.sorted() where !known.contains(key) {
            add("config." + key, "UNKNOWN_KEY", "config.\(key) is not a setting of this kind; use \(known.sorted())")
        }
        if let allowed = allowedSecretNames(kind) {
            for name in secretNames.sorted() where !allowed.contains(name) {
                add(
                    "secrets." + name, "UNKNOWN_SECRET",
                    allowed.isEmpty
                        ? "this kind takes no secrets"
                        : "secrets.\(name) is not used by this kind; use \(allowed.sorted())")
            }
        }
        func string(_ key: String, in values: Set<String>? = nil) -> String? {
            guard let value = config[key] else { return nil }
            guard let text = value.stringValue else {
                add("config." + key, "WRONG_TYPE", "config.\(key) must be a string")
                return nil
            }
            if let values, !values.contains(text) {
                add("config." + key, "UNKNOWN_VALUE", "config.\(key) must be one of \(values.sorted())")
            }
            return text
        }
        func number(_ key: String, _ range: ClosedRange<Double>) {
            guard let value = config[key] else { return }
            guard let number = value.numberValue, range.contains(number) else {
                add("config." + key, "OUT_OF_RANGE", "config.\(key) must be a number in \(range)")
                return
            }
        }
        func strings(_ key: String) {
            guard let value = config[key] else { return }
            if value.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
                add("config." + key, "WRONG_TYPE", "config.\(key) must be a list of strings")
            }
        }
        switch kind {
        case .kbSearch:
            number("top_k", 1...50)
            number("min_score", 0...1_000_000)
            _ = string("mode", in: ["hybrid", "lexical", "vector"])
            strings("tags")
            strings("document_ids")
        case .ticketing:
            let backend = string("backend", in: ["builtin", "zammad"]) ?? "builtin"
            _ = string("group_name")
            if backend == "zammad" {
                if let url = string("base_url") {
                    if URL(string: url)?.host == nil {
                        add("config.base_url", "INVALID_URL", "config.base_url must be a URL")
                    }
                } else {
                    add("config.base_url", "MISSING_FIELD", "a zammad ticketing tool needs config.base_url")
                }
                if !secretNames.contains("api_token") {
                    add("secrets.api_token", "MISSING_SECRET", "a zammad ticketing tool needs secrets.api_token")
                }
            }
        case .notification:
            let channel = string("channel", in: ["slack", "teams", "webhook", "log"]) ?? "log"
            _ = string("channel_name")
            _ = string("severity", in: ["info", "warning", "critical"])
            if channel != "log", !secretNames.contains("url") {
                add("secrets.url", "MISSING_SECRET", "a \(channel) notification tool needs secrets.url")
            }
        case .llm:
            _ = string("model")
            _ = string("system_prompt")
            number("max_tokens", 1...1_000_000)
            if let flag = config["json_output"], case .bool = flag {
            } else if config["json_output"] != nil {
                add("config.json_output", "WRONG_TYPE", "config.json_output must be true or false")
            }
        case .http:
            let token = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
            for name in secretNames.sorted() where !name.allSatisfy(token.contains) {
                add(
                    "secrets." + name, "INVALID_HEADER_NAME",
                    "an http tool's secrets are sent as headers: use a header name")
            }
            if let text = string("url") {
                let url = URL(string: text)
                if url?.host == nil || !["http", "https"].contains(url?.scheme?.lowercased() ?? "") {
                    add("config.url", "INVALID_URL", "config.url must be an http(s) URL")
                }
            } else if config["url"] == nil {
                add("config.url", "MISSING_FIELD", "an http tool needs config.url")
            }
            _ = string("method", in: ["GET", "POST", "PUT", "PATCH", "DELETE"])
            if let headers = config["headers"],
                headers.objectValue?.values.allSatisfy({ $0.stringValue != nil }) != true
            {
                add("config.headers", "WRONG_TYPE", "config.headers must be an object of strings")
            }
        default:
            add("kind", "UNKNOWN_KIND", "kind must be one of kb_search, ticketing, notification, llm, http")
        }
        return found
    }
}
