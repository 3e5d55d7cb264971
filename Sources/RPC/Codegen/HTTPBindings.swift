/// One binding of http.yaml checked against the contract: the method it serves and its messages.
struct HTTPBinding {
    let rule: HTTPBindingRule
    let service: ServiceType
    let method: ServiceType.Method
    /// The .proto file that declares the service.
    let protoFile: String
    /// 0 for a rule's own binding, 1, 2, … for its additional bindings.
    let bindingIndex: Int
    let request: MessageType
    let response: MessageType

    /// `agentplane.v1.AgentService.GetAgent`.
    var selector: String { service.fullName + "." + method.name }

    /// `AgentService_GetAgent`; additional bindings get a number, as grpc-gateway does
    /// (`AgentService_GetAgent2`).
    var operationID: String {
        service.name + "_" + method.name + (bindingIndex > 0 ? String(bindingIndex + 1) : "")
    }

    /// The request field the body fills, when the body is one field rather than `*`.
    var bodyField: Field? {
        guard let body = rule.body, body != "*" else { return nil }
        return request.fields.first { $0.name == body }
    }

    /// The response field sent as the whole HTTP body, when the rule names one.
    var responseBodyField: Field? {
        rule.responseBody.flatMap { name in response.fields.first { $0.name == name } }
    }
}

/// The HTTP API of the contract: every binding of http.yaml, in file order, checked against the
/// descriptors, and the lists of http_internal.yaml.
struct HTTPAPI {
    let bindings: [HTTPBinding]
    /// Selectors never served over HTTP, in file order.
    let internalMethods: [String]
    /// Selectors that need no credential.
    let noCredential: Set<String>
    /// The rules file, as named in the plugin's parameter (for generated headers).
    let rulesFile: String

    /// Checks the rules; every problem found is reported at once, each with its place.
    init(
        rules: HTTPRuleFile, internalFile: HTTPInternalFile, rulesFile: String, internalFileName: String?,
        files: [ProtoFile],
        filesToGenerate: [String], types: TypeTable
    ) throws {
        var methods: [String: (ServiceType, ServiceType.Method, String)] = [:]
        for file in files {
            for service in file.services {
                for method in service.methods {
                    methods[service.fullName + "." + method.name] = (service, method, file.name)
                }
            }
        }
        var problems: [String] = []
        var exposed: [String: SourceLocation] = [:]
        var bindings: [HTTPBinding] = []
        var routes: [String: SourceLocation] = [:]
        var operations: [String: SourceLocation] = [:]
        for rule in rules.rules {
            guard let (service, method, protoFile) = methods[rule.selector] else {
                problems.append("\(rule.location): selector \(rule.selector) names no method of the contract")
                continue
            }
            if let first = exposed[rule.selector] {
                problems.append(
                    "\(rule.location): a second rule for \(rule.selector) (the first is at \(first); "
                        + "use additional_bindings)")
                continue
            }
            exposed[rule.selector] = rule.location
            for (index, bindingRule) in rule.bindings.enumerated() {
                let binding = HTTPBinding(
                    rule: bindingRule, service: service, method: method, protoFile: protoFile, bindingIndex: index,
                    request: types.message(method.inputType), response: types.message(method.outputType))
                let found = Self.problems(of: binding, types: types)
                problems += found.map { "\(bindingRule.location): \(rule.selector): \($0)" }
                let route = bindingRule.verb.uppercased + " " + bindingRule.template.shape
                let operation = bindingRule.verb.uppercased + " " + bindingRule.template.openAPIPath
                if let first = routes[route] {
                    problems.append("\(bindingRule.location): \(route) is already bound at \(first)")
                } else if let first = operations[operation] {
                    problems.append(
                        "\(bindingRule.location): \(operation) is the same OpenAPI operation as the binding at \(first)"
                    )
                }
                routes[route] = routes[route] ?? bindingRule.location
                operations[operation] = operations[operation] ?? bindingRule.location
                if found.isEmpty { bindings.append(binding) }
            }
        }

        var internalMethods: [String] = []
        var listed: [String: SourceLocation] = [:]
        for entry in internalFile.internalMethods {
            if methods[entry.selector] == nil {
                problems.append("\(entry.location): \(entry.selector) names no method of the contract")
            } else if let first = listed[entry.selector] {
                problems.append("\(entry.location): \(entry.selector) is listed twice (first at \(first))")
            } else if let rule = exposed[entry.selector] {
                problems.append(
                    "\(entry.location): \(entry.selector) is both internal and exposed by the rule at \(rule); "
                        + "remove one")
            } else {
                listed[entry.selector] = entry.location
                internalMethods.append(entry.selector)
            }
        }
        for entry in internalFile.noCredential where exposed[entry.selector] == nil {
            problems.append("\(entry.location): no_credential lists \(entry.selector), which no rule exposes")
        }
        for file in files where filesToGenerate.contains(file.name) {
            for service in file.services {
                for method in service.methods {
                    let selector = service.fullName + "." + method.name
                    if exposed[selector] == nil, listed[selector] == nil {
                        problems.append(
                            "\(rulesFile): \(selector) (\(file.name)) is in neither the HTTP rules nor the internal "
                                + "list: add a rule to expose it, or list it under internal: in "
                                + (internalFileName ?? "the file of option http_internal"))
                    }
                }
            }
        }
        if !problems.isEmpty {
            throw PluginError(
                description: "the HTTP rules have \(problems.count) problem(s):\n" + problems.joined(separator: "\n"))
        }
        self.bindings = bindings
        self.internalMethods = internalMethods
        self.noCredential = Set(internalFile.noCredential.map(\.selector))
        self.rulesFile = rulesFile
    }

    /// What is wrong with one binding's fields: path variables, body and response body.
    private static func problems(of binding: HTTPBinding, types: TypeTable) -> [String] {
        var problems: [String] = []
        let rule = binding.rule
        for variable in rule.template.variables {
            if let problem = FieldPaths.checkPathVariable(variable, in: binding.request, types: types) {
                problems.append(problem)
            }
        }
        if let body = rule.body, body != "*" {
            if binding.request.fields.contains(where: { $0.name == body }) {
                if rule.template.variables.contains(where: { $0.first == body }) {
                    problems.append("body field '\(body)' is also bound in the path")
                }
            } else {
                problems.append("body '\(body)' is not a top-level field of \(binding.request.fullName) (nor '*')")
            }
        }
        if let responseBody = rule.responseBody, !binding.response.fields.contains(where: { $0.name == responseBody }) {
            problems.append("response_body '\(responseBody)' is not a top-level field of \(binding.response.fullName)")
        }
        return problems
    }
}

/// Field paths of a message (`ticket.id`), as path variables and query parameters name fields.
enum FieldPaths {
    /// Why a path variable cannot bind this field path, or nil when it can: every part but the
    /// last a singular message field, the last a singular field of a scalar, string, bytes or enum.
    static func checkPathVariable(_ path: [String], in message: MessageType, types: TypeTable) -> String? {
        var current = message
        for (index, name) in path.enumerated() {
            let shown = path[...index].joined(separator: ".")
            guard let field = current.fields.first(where: { $0.name == name }) else {
                return "path variable '\(path.joined(separator: "."))': \(current.fullName) has no field '\(name)'"
            }
            if field.label == .repeated {
                return "path variable '\(path.joined(separator: "."))': '\(shown)' is repeated"
            }
            if index == path.count - 1 {
                if field.kind == .message || field.kind == .group {
                    return
                        "path variable '\(path.joined(separator: "."))': '\(shown)' is a message, not a primitive field"
                }
            } else {
                guard field.kind == .message else {
                    return "path variable '\(path.joined(separator: "."))': '\(shown)' is not a message"
                }
                current = types.message(field.typeName)
            }
        }
        return nil
    }

    /// Whether a field is a `map<K, V>`.
    static func isMap(_ field: Field, types: TypeTable) -> Bool {
        field.kind == .message && field.label == .repeated && types.message(field.typeName).isMapEntry
    }
}
