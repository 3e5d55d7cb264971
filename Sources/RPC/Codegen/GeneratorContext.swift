/// What every part of the generator can look up: all types of the request, their packages,
/// how they nest, and the plugin's options.
struct GeneratorContext {
    let types: TypeTable
    let graph: TypeGraph
    let options: GeneratorOptions
    private var packages: [String: String] = [:]
    private var declaringFile: [String: String] = [:]

    init(files: [ProtoFile], options: GeneratorOptions) {
        types = TypeTable(files: files)
        graph = TypeGraph(types: types)
        self.options = options
        for file in files {
            func record(_ message: MessageType) {
                packages["." + message.fullName] = file.package
                declaringFile[message.fullName] = file.name
                message.nestedEnums.forEach { packages["." + $0.fullName] = file.package }
                message.nestedMessages.forEach(record)
            }
            file.messages.forEach(record)
            file.enums.forEach { packages["." + $0.fullName] = file.package }
        }
    }

    /// The Swift name of a message or enum given as `.package.Name`.
    func swiftName(_ typeName: String) -> String {
        Naming.swiftTypeName(fullName: String(typeName.dropFirst()), package: packages[typeName] ?? "")
    }

    /// The enum holding the descriptor of the file that declares a message.
    func fileDescriptorHolder(_ messageFullName: String) -> String {
        Naming.fileDescriptorHolder(declaringFile[messageFullName] ?? "")
    }

    /// The Swift case of an enum's zero value.
    func enumDefault(_ typeName: String) -> String {
        let type = types.enumType(typeName)
        let zero = type.values.first { $0.number == 0 } ?? type.values[0]
        return "." + Naming.escaped(Naming.swiftEnumCase(zero.name, enumName: type.name))
    }
}

/// The plugin's parameter, `key=value` pairs separated by commas.
struct GeneratorOptions {
    /// The C module holding protoc-c's output for the files being generated.
    var cModule = "CModels"
    /// Further C modules to import (protoc-c output of dependencies).
    var cImports: [String] = []
    /// Swift modules to import (generated types of dependencies).
    var swiftImports: [String] = []
    /// The name of the enum listing every generated file's descriptor.
    var registry = "GeneratedProtoFiles"
    /// The HTTP rules (a Google API service configuration with `http: rules:`), a path relative to
    /// the plugin's working directory. When set, the plugin writes the edge's files from them
    /// (HTTPRoutes, OpenAPIDocument, routes.md) instead of the Swift models.
    var httpRules: String?
    /// The RPCs that are never served over HTTP (`internal:`) and the exposed ones that need no
    /// credential (`no_credential:`); read with `httpRules`.
    var httpInternal: String?

    init(parameter: String) throws {
        for pair in parameter.split(separator: ",") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw PluginError(description: "bad option '\(pair)'") }
            switch parts[0] {
            case "c_module": cModule = parts[1]
            case "c_import": cImports.append(parts[1])
            case "swift_import": swiftImports.append(parts[1])
            case "registry": registry = parts[1]
            case "http_rules": httpRules = parts[1]
            case "http_internal": httpInternal = parts[1]
            default: throw PluginError(description: "unknown option '\(parts[0])'")
            }
        }
        if httpInternal != nil, httpRules == nil {
            throw PluginError(description: "option http_internal needs http_rules")
        }
    }
}
