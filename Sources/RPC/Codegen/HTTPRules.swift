// The HTTP rules of the contract, read from YAML: http.yaml, a Google API service configuration
// (`type: google.api.Service`, `http: rules:`) as grpc-gateway's --grpc-api-configuration reads
// it, and http_internal.yaml, what such a file cannot say. Only what needs no descriptor is
// checked here (shape, verbs, path grammar); HTTPBindings checks the rules against the contract.
private import Glibc
private import Yams

/// A place in a YAML file, for messages: `file:line:column`.
struct SourceLocation: CustomStringConvertible {
    var file: String
    var line: Int
    var column: Int

    var description: String { "\(file):\(line):\(column)" }
}

/// The HTTP methods a rule may bind.
enum HTTPVerb: String, CaseIterable {
    case get, put, post, delete, patch

    /// `GET`, as HTTP writes it.
    var uppercased: String { rawValue.uppercased() }

    /// The verbs whose requests carry no body.
    var takesBody: Bool { self != .get && self != .delete }
}

/// One binding of a rule: a verb, a path template, where the body goes.
struct HTTPBindingRule {
    var verb: HTTPVerb
    var template: PathTemplate
    /// The template as written in the file.
    var path: String
    /// `*`, a top-level request field, or nil for no body.
    var body: String?
    /// A top-level response field sent instead of the whole response, or nil.
    var responseBody: String?
    var location: SourceLocation
}

/// One rule: the method it names and its bindings (its own first, then `additional_bindings`).
struct HTTPRule {
    var selector: String
    var location: SourceLocation
    var bindings: [HTTPBindingRule]
}

/// A selector listed in http_internal.yaml.
struct ListedSelector {
    var selector: String
    var location: SourceLocation
}

/// http.yaml: the rules in file order.
struct HTTPRuleFile {
    var rules: [HTTPRule]

    init(path: String) throws {
        try self.init(yaml: readTextFile(path), file: path)
    }

    init(yaml: String, file: String) throws {
        let reader = YAMLReader(file: file)
        let root = try reader.root(yaml)
        let top = try reader.mapping(root, what: "the service configuration")
        try reader.allowOnly(
            ["type", "config_version", "name", "title", "http"], in: top, what: "the service configuration")
        guard let type = top["type"] else { throw reader.error(root, "missing 'type: google.api.Service'") }
        guard try reader.string(type, what: "type") == "google.api.Service" else {
            throw reader.error(type, "type must be google.api.Service")
        }
        if let version = top["config_version"], try reader.string(version, what: "config_version") != "3" {
            throw reader.error(version, "config_version must be 3")
        }
        guard let http = top["http"] else { throw reader.error(root, "missing 'http: rules:'") }
        let httpMapping = try reader.mapping(http, what: "http")
        try reader.allowOnly(["rules"], in: httpMapping, what: "http")
        guard let rules = httpMapping["rules"] else { throw reader.error(http, "missing 'rules:' under http") }
        self.rules = try reader.sequence(rules, what: "http.rules").map { try reader.rule($0) }
    }
}

/// http_internal.yaml: `internal:` (RPCs never served over HTTP) and `no_credential:` (exposed RPCs
/// that need no credential), each a list of method selectors.
struct HTTPInternalFile {
    var internalMethods: [ListedSelector] = []
    var noCredential: [ListedSelector] = []

    init() {}

    init(path: String) throws {
        try self.init(yaml: readTextFile(path), file: path)
    }

    init(yaml: String, file: String) throws {
        let reader = YAMLReader(file: file)
        let root = try reader.root(yaml)
        let top = try reader.mapping(root, what: file)
        try reader.allowOnly(["internal", "no_credential"], in: top, what: file)
        func list(_ key: String) throws -> [ListedSelector] {
            guard let node = top[key] else { return [] }
            if node.null != nil { return [] }
            return try reader.sequence(node, what: key).map {
                ListedSelector(selector: try reader.string($0, what: "a selector"), location: reader.location($0))
            }
        }
        internalMethods = try list("internal")
        noCredential = try list("no_credential")
    }
}

/// Reads the nodes of one YAML file, every error prefixed with its place.
private struct YAMLReader {
    let file: String

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }

    func error(_ node: Node, _ message: String) -> PluginError {
        PluginError(description: "\(location(node)): \(message)")
    }

    func root(_ yaml: String) throws -> Node {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw PluginError(description: "\(file):\(Self.summary(error))")
        }
        guard let node else { throw PluginError(description: "\(file): empty") }
        return node
    }

    /// A YamlError's message, `line:column: not valid YAML: problem`, without the copy of the
    /// document it carries.
    private static func summary(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let hint = context?.text.contains("alias") == true ? " (write a '*' quoted: body: \"*\")" : ""
            return "\(mark): not valid YAML: \(problem)" + (context.map { " \($0.text)" } ?? "") + hint
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "\(context.mark): not valid YAML: duplicate key \(duplicates.sorted().joined(separator: ", "))"
        default:
            return " not valid YAML: \(error)"
        }
    }

    func mapping(_ node: Node, what: String) throws -> Node.Mapping {
        guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping") }
        return mapping
    }

    func sequence(_ node: Node, what: String) throws -> [Node] {
        guard let sequence = node.sequence else { throw error(node, "\(what) must be a list") }
        return Array(sequence)
    }

    func string(_ node: Node, what: String) throws -> String {
        guard let scalar = node.scalar else { throw error(node, "\(what) must be a string") }
        return scalar.string
    }

    /// A scalar that may be empty: `body:`, `body: ""` and `body: ~` all mean none.
    func optionalString(_ node: Node?, what: String) throws -> String? {
        guard let node else { return nil }
        if node.null != nil { return nil }
        let value = try string(node, what: what)
        return value.isEmpty ? nil : value
    }

    func allowOnly(_ keys: Set<String>, in mapping: Node.Mapping, what: String) throws {
        for (key, _) in mapping {
            guard let name = key.string, keys.contains(name) else {
                throw error(
                    key,
                    "unknown key '\(key.string ?? "?")' in \(what) (known: \(keys.sorted().joined(separator: ", ")))")
            }
        }
    }

    func rule(_ node: Node) throws -> HTTPRule {
        let mapping = try mapping(node, what: "a rule")
        guard let selectorNode = mapping["selector"] else { throw error(node, "a rule needs a selector") }
        let selector = try string(selectorNode, what: "selector")
        var bindings = [try binding(node, mapping, additional: false)]
        if let additional = mapping["additional_bindings"] {
            for element in try sequence(additional, what: "additional_bindings") {
                bindings.append(
                    try binding(element, try self.mapping(element, what: "an additional binding"), additional: true))
            }
        }
        return HTTPRule(selector: selector, location: location(selectorNode), bindings: bindings)
    }

    private func binding(_ node: Node, _ mapping: Node.Mapping, additional: Bool) throws -> HTTPBindingRule {
        let verbKeys = HTTPVerb.allCases.map(\.rawValue) + ["custom"]
        var known = Set(verbKeys + ["body", "response_body"])
        if !additional { known.formUnion(["selector", "additional_bindings"]) }
        for (key, _) in mapping where additional && (key.string == "selector" || key.string == "additional_bindings") {
            throw error(key, "an additional binding cannot have '\(key.string!)' (it belongs to its rule)")
        }
        try allowOnly(known, in: mapping, what: additional ? "an additional binding" : "a rule")
        let present = mapping.filter { verbKeys.contains($0.key.string ?? "") }
        guard present.count == 1, let (verbKey, pathNode) = present.first else {
            throw error(
                node, "a binding needs exactly one of \(verbKeys.joined(separator: ", ")) (found \(present.count))")
        }
        if verbKey.string == "custom" {
            let custom = try self.mapping(pathNode, what: "custom")
            try allowOnly(["kind", "path"], in: custom, what: "custom")
            let kind = try custom["kind"].map { try string($0, what: "custom.kind") } ?? "?"
            throw error(
                verbKey,
                "custom HTTP method '\(kind)' is not supported: the edge serves get, put, post, delete and patch")
        }
        let verb = HTTPVerb(rawValue: verbKey.string!)!
        let path = try string(pathNode, what: verb.rawValue)
        let template: PathTemplate
        do {
            template = try PathTemplate(parsing: path)
        } catch let failure as PluginError {
            throw error(pathNode, failure.description)
        }
        let body = try optionalString(mapping["body"], what: "body")
        if body != nil, !verb.takesBody {
            throw error(mapping["body"]!, "a \(verb.uppercased) binding cannot have a body")
        }
        return HTTPBindingRule(
            verb: verb, template: template, path: path, body: body,
            responseBody: try optionalString(mapping["response_body"], what: "response_body"),
            location: location(pathNode))
    }
}

/// The whole file as text; the path is relative to the plugin's working directory (the
/// repository's root when scripts/generate runs protoc).
private func readTextFile(_ path: String) throws -> String {
    guard let file = fopen(path, "rb") else {
        throw PluginError(description: "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes += buffer[0..<count]
    }
    if ferror(file) != 0 { throw PluginError(description: "cannot read \(path)") }
    return String(decoding: bytes, as: UTF8.self)
}
