public import Foundation

/// The outcome of validating a flow document.
public struct FlowValidation: Sendable {
    /// Problems that make the flow unusable; empty when it is valid.
    public let errors: [FlowIssue]
    /// Problems that do not block saving (an unreachable node).
    public let warnings: [FlowIssue]
    /// The compiled flow; nil when there are errors.
    public let flow: CompiledFlow?

    /// True when there are no errors.
    public var isValid: Bool { errors.isEmpty }
}

/// Checks a flow document (see docs/FLOWS.md) and compiles it; reports every error with its JSON path.
public enum FlowValidator {
    /// The node kinds a flow may use (from the schema the engine exports, `FlowSchema.current`).
    public static let nodeKinds = NodeKinds.all.map(\.kind)
    /// The most nodes a flow may have.
    public static let maxNodes = 500
    /// The longest `timeout_ms` a node may have (24 h).
    public static let longestNodeTimeoutMilliseconds = 86_400_000.0

    /// Validates a flow given as JSON text.
    public static func validate(json: String) -> FlowValidation {
        validate(data: Data(json.utf8))
    }

    /// Validates a flow given as JSON bytes.
    public static func validate(data: Data) -> FlowValidation {
        let document: JSONValue
        do {
            document = try JSONValue.parse(data)
        } catch {
            return FlowValidation(
                errors: [FlowIssue(path: "$", code: "INVALID_JSON", message: "the flow is not valid JSON")],
                warnings: [], flow: nil)
        }
        return validate(document)
    }

    /// Validates a parsed flow document.
    public static func validate(_ document: JSONValue) -> FlowValidation {
        var compiler = FlowCompiler()
        let flow = compiler.compile(document)
        return FlowValidation(
            errors: compiler.errors, warnings: compiler.warnings, flow: compiler.errors.isEmpty ? flow : nil)
    }
}

/// The single pass behind `FlowValidator`: collects issues while it compiles.
private struct FlowCompiler {
    var errors: [FlowIssue] = []
    var warnings: [FlowIssue] = []
    var channels: [String: Channel] = [:]

    mutating func error(_ path: String, _ code: String, _ message: String) {
        errors.append(FlowIssue(path: path, code: code, message: message))
    }

    mutating func compile(_ document: JSONValue) -> CompiledFlow? {
        guard let root = document.objectValue else {
            error("$", "INVALID_VALUE", "the flow must be a JSON object")
            return nil
        }
        compileChannels(root["state"])
        guard let nodeValues = root["nodes"]?.arrayValue, !nodeValues.isEmpty else {
            error("$.nodes", "MISSING_FIELD", "a flow needs a non-empty array of nodes")
            return nil
        }
        if nodeValues.count > FlowValidator.maxNodes {
            error("$.nodes", "LIMIT_EXCEEDED", "a flow may have at most \(FlowValidator.maxNodes) nodes")
            return nil
        }
        // First pass: ids, so edges can point forward.
        var indexByID: [String: Int] = [:]
        var ids: [String] = []
        for (index, value) in nodeValues.enumerated() {
            let id = value["id"]?.stringValue ?? ""
            if id.isEmpty {
                error("$.nodes[\(index)].id", "MISSING_FIELD", "every node needs a non-empty string id")
            } else if indexByID[id] != nil {
                error("$.nodes[\(index)].id", "DUPLICATE_NODE", "node id '\(id)' is used twice")
            } else {
                indexByID[id] = index
            }
            ids.append(id)
        }
        var entry = 0
        if let entryID = root["entry"]?.stringValue, !entryID.isEmpty {
            if let index = indexByID[entryID] {
                entry = index
            } else {
                error("$.entry", "DANGLING_EDGE", "entry names node '\(entryID)', which does not exist")
            }
        } else {
            error("$.entry", "MISSING_ENTRY", "set entry to the id of the node that runs first")
        }
        var edges = [[CompiledEdge]](repeating: [], count: nodeValues.count)
        var nodes: [NodeParts?] = []
        for (index, value) in nodeValues.enumerated() {
            nodes.append(compileNode(value, at: "$.nodes[\(index)]", indexByID: indexByID, edges: &edges[index]))
        }
        compileEdgeList(root["edges"], nodes: nodes, indexByID: indexByID, edges: &edges)
        FlowLayoutMetadata.check(
            root["metadata"], nodeIDs: Set(indexByID.keys), errors: &errors, warnings: &warnings)
        let compiled = nodes.enumerated().compactMap { index, node in
            node.map {
                CompiledNode(
                    id: $0.id, kind: $0.kind, edges: edges[index], retry: $0.retry, timeout: $0.timeout,
                    waitFor: waitFor(
                        nodeValues[index]["wait_for"], of: index, edges: edges, nodes: nodes,
                        indexByID: indexByID))
            }
        }
        guard errors.isEmpty, compiled.count == nodeValues.count else { return nil }
        reportUnreachable(compiled, entry: entry)
        return CompiledFlow(
            name: root["name"]?.stringValue ?? "", channels: channels, nodes: compiled, entry: entry,
            indexByID: indexByID)
    }

    // MARK: - State channels

    mutating func compileChannels(_ value: JSONValue?) {
        channels["input"] = Channel(name: "input", type: .string, reducer: .overwrite, initial: .string(""))
        channels["answer"] = Channel(name: "answer", type: .string, reducer: .overwrite, initial: .null)
        guard let value else { return }
        guard let members = value.objectValue else {
            error("$.state", "INVALID_VALUE", "state must be an object of channel declarations")
            return
        }
        for name in members.keys.sorted() {
            let path = "$.state.\(name)"
            if name == "input" {
                error(path, "RESERVED_CHANNEL", "'input' is the run's input and cannot be declared")
                continue
            }
            guard let declaration = members[name]!.objectValue else {
                error(path, "INVALID_VALUE", "a channel is declared as {\"type\": ..., \"reducer\": ...}")
                continue
            }
            var type = ChannelType.any
            if let text = declaration["type"]?.stringValue {
                if let parsed = ChannelType(rawValue: text) {
                    type = parsed
                } else {
                    error(
                        "\(path).type", "UNKNOWN_TYPE",
                        "unknown type '\(text)'; use one of \(ChannelType.allCases.map(\.rawValue))")
                }
            } else if declaration["type"] != nil {
                error("\(path).type", "INVALID_VALUE", "type must be a string")
            }
            var reducer = Reducer.overwrite
            if let text = declaration["reducer"]?.stringValue {
                if let parsed = Reducer(rawValue: text) {
                    reducer = parsed
                } else {
                    error(
                        "\(path).reducer", "BAD_REDUCER",
                        "unknown reducer '\(text)'; use one of \(Reducer.allCases.map(\.rawValue))")
                }
            }
            if reducer == .append, type != .array, type != .any {
                error("\(path).reducer", "TYPE_MISMATCH", "the append reducer needs an array channel")
            }
            if reducer == .merge, type != .object, type != .any {
                error("\(path).reducer", "TYPE_MISMATCH", "the merge reducer needs an object channel")
            }
            var initial: JSONValue
            switch reducer {
            case .append: initial = .array([])
            case .merge: initial = .object([:])
            case .overwrite: initial = .null
            }
            if let given = declaration["default"] {
                if type.accepts(given) {
                    initial = given
                } else {
                    error("\(path).default", "TYPE_MISMATCH", "the default is not a \(type.rawValue)")
                }
            }
            channels[name] = Channel(name: name, type: type, reducer: reducer, initial: initial)
        }
    }

    /// Reports a path that names no declared channel.
    mutating func checkPaths(_ paths: [ValuePath], at path: String) {
        for valuePath in paths where channels[valuePath.channel] == nil {
            error(path, "UNKNOWN_CHANNEL", "'\(valuePath.channel)' is not a declared state channel")
        }
    }

    /// The declared channel `name` for a node's output, or nil with an error.
    mutating func outputChannel(
        _ value: JSONValue?, at path: String, accepting types: [ChannelType]
    ) -> String? {
        guard let value else { return nil }
        guard let name = value.stringValue, !name.isEmpty else {
            error(path, "INVALID_VALUE", "output must be the name of a state channel")
            return nil
        }
        guard let channel = channels[name] else {
            error(path, "UNKNOWN_CHANNEL", "'\(name)' is not a declared state channel")
            return nil
        }
        if channel.reducer == .overwrite, !types.contains(channel.type), channel.type != .any {
            error(
                path, "TYPE_MISMATCH",
                "channel '\(name)' is a \(channel.type.rawValue); this node writes a \(types[0].rawValue)")
        }
        return name
    }

    mutating func template(_ value: JSONValue?, at path: String, required: Bool) -> Template? {
        guard let value else {
            if required { error(path, "MISSING_FIELD", "this node needs a \(path.split(separator: ".").last!)") }
            return nil
        }
        guard let text = value.stringValue else {
            error(path, "INVALID_VALUE", "must be a string template")
            return nil
        }
        do {
            let template = try Template(text)
            checkPaths(template.paths, at: path)
            return template
        } catch {
            self.error(path, "BAD_TEMPLATE", "\(error.message) at character \(error.position)")
            return nil
        }
    }

    mutating func expression(_ value: JSONValue?, at path: String) -> Expression? {
        guard let text = value?.stringValue else {
            error(path, "MISSING_FIELD", "a condition expression (string) is required")
            return nil
        }
        do {
            let expression = try Expression.parse(text)
            checkPaths(expression.paths, at: path)
            return expression
        } catch {
            self.error(path, "BAD_EXPRESSION", "\(error.message) at character \(error.position)")
            return nil
        }
    }

    mutating func target(_ value: JSONValue?, at path: String, indexByID: [String: Int]) -> Int? {
        guard let id = value?.stringValue, !id.isEmpty else {
            error(path, "MISSING_FIELD", "the id of the target node is required")
            return nil
        }
        guard let index = indexByID[id] else {
            error(path, "DANGLING_EDGE", "no node has the id '\(id)'")
            return nil
        }
        return index
    }

    // MARK: - Edges

    mutating func compileEdgeList(
        _ value: JSONValue?, nodes: [NodeParts?], indexByID: [String: Int], edges: inout [[CompiledEdge]]
    ) {
        guard let value else { return }
        guard let list = value.arrayValue else {
            error("$.edges", "INVALID_VALUE", "edges must be an array of {from, to, when?}")
            return
        }
        for (index, edge) in list.enumerated() {
            let path = "$.edges[\(index)]"
            let from = target(edge["from"], at: "\(path).from", indexByID: indexByID)
            let to = target(edge["to"], at: "\(path).to", indexByID: indexByID)
            let condition = edge["when"] == nil ? nil : expression(edge["when"], at: "\(path).when")
            if let from, let kind = nodes[from]?.kind, Self.choosesItsSuccessors(kind) {
                error(
                    "\(path).from", "INVALID_FIELD",
                    "a \(kind.name) node cannot have outgoing edges; "
                        + (kind.name == "end" ? "it ends its branch" : "use its routes"))
            } else if let from, let to, edge["when"] == nil || condition != nil {
                edges[from].append(CompiledEdge(target: to, condition: condition))
            }
        }
    }

    // MARK: - Nodes

    struct NodeParts {
        let id: String
        let kind: CompiledNode.Kind
        let retry: RetryPolicy
        let timeout: Duration?
    }

    mutating func compileNode(
        _ value: JSONValue, at path: String, indexByID: [String: Int], edges: inout [CompiledEdge]
    ) -> NodeParts? {
        guard let node = value.objectValue else {
            error(path, "INVALID_VALUE", "a node must be an object")
            return nil
        }
        let id = node["id"]?.stringValue ?? ""
        switch node["next"] {
        case nil: break
        case .string(let next)?:
            if let target = target(.string(next), at: "\(path).next", indexByID: indexByID) {
                edges.append(CompiledEdge(target: target, condition: nil))
            }
        case .array(let list)?:
            for (index, next) in list.enumerated() {
                if let target = target(next, at: "\(path).next[\(index)]", indexByID: indexByID) {
                    edges.append(CompiledEdge(target: target, condition: nil))
                }
            }
        default:
            error("\(path).next", "INVALID_VALUE", "next must be a node id or an array of node ids")
        }
        let retry = retryPolicy(node["retry"], at: "\(path).retry")
        var timeout: Duration?
        if let raw = node["timeout_ms"] {
            if let milliseconds = raw.numberValue, milliseconds > 0,
                milliseconds <= FlowValidator.longestNodeTimeoutMilliseconds
            {
                timeout = .milliseconds(Int64(milliseconds))
            } else {
                error(
                    "\(path).timeout_ms", "INVALID_VALUE",
                    "timeout_ms must be a positive number of at most \(Int(FlowValidator.longestNodeTimeoutMilliseconds)) (24 h)"
                )
            }
        }
        guard let kindName = node["kind"]?.stringValue else {
            error("\(path).kind", "MISSING_FIELD", "every node needs a kind: \(FlowValidator.nodeKinds)")
            return nil
        }
        let kind: CompiledNode.Kind?
        switch kindName {
        case "llm":
            let system = template(node["system"], at: "\(path).system", required: false)
            let prompt = template(node["prompt"], at: "\(path).prompt", required: true)
            let output = outputChannel(node["output"], at: "\(path).output", accepting: [.string])
            kind = prompt.map { .llm(model: modelName(node, path), system: system, prompt: $0, output: output) }
        case "tool":
            let tool = node["tool"]?.stringValue ?? ""
            if tool.isEmpty { error("\(path).tool", "MISSING_FIELD", "name the tool (its id or name)") }
            var arguments = ValueTemplate.literal(.object([:]))
            if let raw = node["arguments"] {
                if raw.objectValue == nil {
                    error("\(path).arguments", "INVALID_VALUE", "arguments must be an object")
                } else {
                    arguments = ValueTemplate.compile(raw, path: "\(path).arguments", errors: &errors)
                    checkPaths(arguments.paths, at: "\(path).arguments")
                }
            }
            let output = outputChannel(node["output"], at: "\(path).output", accepting: [.object])
            var continueOnError = false
            switch node["on_error"]?.stringValue {
            case nil, "fail": break
            case "continue": continueOnError = true
            default: error("\(path).on_error", "INVALID_VALUE", "on_error is \"fail\" or \"continue\"")
            }
            kind =
                tool.isEmpty
                ? nil : .tool(tool: tool, arguments: arguments, output: output, continueOnError: continueOnError)
        case "router":
            var routes: [(Expression, Int)] = []
            let list = node["routes"]?.arrayValue ?? []
            if list.isEmpty { error("\(path).routes", "MISSING_FIELD", "a router needs routes: [{when, to}]") }
            for (index, route) in list.enumerated() {
                let condition = expression(route["when"], at: "\(path).routes[\(index)].when")
                let to = target(route["to"], at: "\(path).routes[\(index)].to", indexByID: indexByID)
                if let condition, let to { routes.append((condition, to)) }
            }
            let fallback =
                node["default"] == nil ? nil : target(node["default"], at: "\(path).default", indexByID: indexByID)
            kind = .router(routes: routes, fallback: fallback)
        case "llm_router":
            let prompt =
                node["prompt"] == nil
                ? try? Template("{{input}}") : template(node["prompt"], at: "\(path).prompt", required: true)
            var options: [RouterOption] = []
            let list = node["options"]?.arrayValue ?? []
            if list.isEmpty {
                error("\(path).options", "MISSING_FIELD", "an llm_router needs options: [{name, description, to}]")
            }
            for (index, option) in list.enumerated() {
                let optionPath = "\(path).options[\(index)]"
                let name = option["name"]?.stringValue ?? ""
                if name.isEmpty { error("\(optionPath).name", "MISSING_FIELD", "every option needs a name") }
                if options.contains(where: { $0.name == name }) {
                    error("\(optionPath).name", "DUPLICATE_OPTION", "option '\(name)' is listed twice")
                }
                if let to = target(option["to"], at: "\(optionPath).to", indexByID: indexByID), !name.isEmpty {
                    options.append(
                        RouterOption(name: name, description: option["description"]?.stringValue ?? "", target: to))
                }
            }
            let fallback =
                node["default"] == nil ? nil : target(node["default"], at: "\(path).default", indexByID: indexByID)
            let output = outputChannel(node["output"], at: "\(path).output", accepting: [.string])
            kind = prompt.map {
                .llmRouter(
                    model: modelName(node, path), prompt: $0, options: options, output: output, fallback: fallback)
            }
        case "human_input":
            let prompt = template(node["prompt"], at: "\(path).prompt", required: true)
            var choices: [String] = []
            if let raw = node["choices"] {
                if let list = raw.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
                    choices = list.compactMap(\.stringValue)
                } else {
                    error("\(path).choices", "INVALID_VALUE", "choices must be an array of strings")
                }
            }
            let output = outputChannel(node["output"], at: "\(path).output", accepting: [.string])
            kind = prompt.map { .humanInput(prompt: $0, choices: choices, output: output) }
        case "set":
            guard let values = node["values"]?.objectValue, !values.isEmpty else {
                error("\(path).values", "MISSING_FIELD", "a set node needs values: {channel: value}")
                return nil
            }
            var compiled: [(String, ValueTemplate)] = []
            for key in values.keys.sorted() {
                let valuePath = "\(path).values.\(key)"
                guard let channel = channels[key], key != "input" else {
                    error(valuePath, "UNKNOWN_CHANNEL", "'\(key)' is not a declared state channel")
                    continue
                }
                let value = ValueTemplate.compile(values[key]!, path: valuePath, errors: &errors)
                checkPaths(value.paths, at: valuePath)
                checkLiteralType(value, channel: channel, at: valuePath)
                compiled.append((key, value))
            }
            kind = .set(values: compiled)
        case "end":
            kind = .end(answer: template(node["answer"], at: "\(path).answer", required: false))
        default:
            error(
                "\(path).kind", "UNKNOWN_NODE_KIND",
                "unknown node kind '\(kindName)'; use one of \(FlowValidator.nodeKinds.joined(separator: ", "))")
            return nil
        }
        guard let kind, !id.isEmpty else { return nil }
        if node["next"] != nil, Self.choosesItsSuccessors(kind) {
            error(
                "\(path).next", "INVALID_FIELD",
                "a \(kind.name) node cannot have outgoing edges; "
                    + (kind.name == "end" ? "it ends its branch" : "use its routes"))
        }
        return NodeParts(id: id, kind: kind, retry: retry, timeout: timeout)
    }

    /// The node's `wait_for` list: ids of nodes with an edge (or route) into it.
    mutating func waitFor(
        _ value: JSONValue?, of index: Int, edges: [[CompiledEdge]], nodes: [NodeParts?], indexByID: [String: Int]
    ) -> [Int] {
        guard let value else { return [] }
        let path = "$.nodes[\(index)].wait_for"
        guard let list = value.arrayValue, !list.isEmpty else {
            error(path, "INVALID_VALUE", "wait_for must be a non-empty array of node ids")
            return []
        }
        var result: [Int] = []
        for (position, item) in list.enumerated() {
            guard let source = target(item, at: "\(path)[\(position)]", indexByID: indexByID) else { continue }
            var targets = edges[source].map(\.target)
            if let kind = nodes[source]?.kind { targets += Self.routeTargets(kind) }
            if !targets.contains(index) {
                error(
                    "\(path)[\(position)]", "INVALID_VALUE",
                    "node '\(item.stringValue ?? "")' has no edge to this node, so it would wait forever")
            } else if !result.contains(source) {
                result.append(source)
            }
        }
        return result
    }

    /// The targets a router or llm_router may choose.
    static func routeTargets(_ kind: CompiledNode.Kind) -> [Int] {
        switch kind {
        case .router(let routes, let fallback): return routes.map(\.1) + (fallback.map { [$0] } ?? [])
        case .llmRouter(_, _, let options, _, let fallback):
            return options.map(\.target) + (fallback.map { [$0] } ?? [])
        default: return []
        }
    }

    /// Routers and end nodes pick their successors themselves, so they take no edges.
    static func choosesItsSuccessors(_ kind: CompiledNode.Kind) -> Bool {
        switch kind {
        case .router, .llmRouter, .end: return true
        default: return false
        }
    }

    mutating func checkLiteralType(_ value: ValueTemplate, channel: Channel, at path: String) {
        let written: JSONValue
        switch value {
        case .literal(let literal): written = literal
        case .text: written = .string("")
        default: return  // a copied value is checked when the node runs
        }
        let ok: Bool
        switch channel.reducer {
        case .overwrite: ok = channel.type.accepts(written)
        case .append: ok = true
        case .merge: ok = written.objectValue != nil
        }
        if !ok {
            error(path, "TYPE_MISMATCH", "channel '\(channel.name)' is a \(channel.type.rawValue)")
        }
    }

    mutating func modelName(_ node: [String: JSONValue], _ path: String) -> String {
        guard let raw = node["model"] else { return "" }
        guard let model = raw.stringValue else {
            error("\(path).model", "INVALID_VALUE", "model must be a model id string")
            return ""
        }
        return model
    }

    mutating func retryPolicy(_ value: JSONValue?, at path: String) -> RetryPolicy {
        var policy = RetryPolicy()
        guard let value else { return policy }
        guard let members = value.objectValue else {
            error(path, "INVALID_VALUE", "retry must be an object")
            return policy
        }
        func number(_ key: String, _ range: ClosedRange<Double>) -> Double? {
            guard let raw = members[key] else { return nil }
            guard let number = raw.numberValue, range.contains(number) else {
                error("\(path).\(key)", "INVALID_VALUE", "\(key) must be a number in \(range)")
                return nil
            }
            return number
        }
        if let attempts = number("max_attempts", 1...10) { policy.maxAttempts = Int(attempts) }
        if let backoff = number("initial_backoff_ms", 0...60_000) { policy.initialBackoff = .milliseconds(backoff) }
        if let backoff = number("max_backoff_ms", 0...300_000) { policy.maxBackoff = .milliseconds(backoff) }
        if let multiplier = number("multiplier", 1...10) { policy.multiplier = multiplier }
        if let raw = members["jitter"] {
            if case .bool(let jitter) = raw {
                policy.jitter = jitter
            } else {
                error("\(path).jitter", "INVALID_VALUE", "jitter must be true or false")
            }
        }
        if let raw = members["retry_on"] {
            var kinds: Set<NodeErrorKind> = []
            for (index, item) in (raw.arrayValue ?? []).enumerated() {
                if let kind = item.stringValue.flatMap(NodeErrorKind.init(rawValue:)) {
                    kinds.insert(kind)
                } else {
                    error(
                        "\(path).retry_on[\(index)]", "INVALID_VALUE",
                        "use error kinds from \(NodeErrorKind.allCases.map(\.rawValue))")
                }
            }
            if raw.arrayValue == nil { error("\(path).retry_on", "INVALID_VALUE", "retry_on must be an array") }
            policy.retryOn = kinds
        }
        return policy
    }

    // MARK: - Reachability

    mutating func reportUnreachable(_ nodes: [CompiledNode], entry: Int) {
        var seen = [Bool](repeating: false, count: nodes.count)
        var queue = [entry]
        seen[entry] = true
        while let index = queue.popLast() {
            let targets = nodes[index].edges.map(\.target) + Self.routeTargets(nodes[index].kind)
            for target in targets where !seen[target] {
                seen[target] = true
                queue.append(target)
            }
        }
        for (index, node) in nodes.enumerated() where !seen[index] {
            warnings.append(
                FlowIssue(
                    path: "$.nodes[\(index)]", code: "UNREACHABLE_NODE",
                    message: "node '\(node.id)' cannot be reached from the entry node"))
        }
    }
}
