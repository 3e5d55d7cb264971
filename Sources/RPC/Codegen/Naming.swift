/// Names in the generated Swift, and the names protoc-c gives the same things in C.
///
/// The C names must match protoc-c 1.4 exactly (its c_helpers.cc): structs use
/// `FullNameToC`, functions `FullNameToLower`, fields `FieldName`.
enum Naming {
    // MARK: Swift

    /// `agentplane.v1` → `Agentplane_V1_`, the prefix of a file's top-level Swift types.
    static func swiftPrefix(package: String) -> String {
        package.isEmpty ? "" : package.split(separator: ".").map { upperFirst(String($0)) }.joined(separator: "_") + "_"
    }

    /// The Swift type for a message or enum: nested types become nested Swift types.
    static func swiftTypeName(fullName: String, package: String) -> String {
        let relative = package.isEmpty ? fullName : String(fullName.dropFirst(package.count + 1))
        let parts = relative.split(separator: ".").map { sanitizedTypeName(String($0)) }
        return swiftPrefix(package: package) + parts.joined(separator: ".")
    }

    private static func sanitizedTypeName(_ name: String) -> String {
        ["Type", "Protocol", "Self", "Any"].contains(name) ? name + "Message" : name
    }

    /// `flow_json` → `flowJSON`: lowerCamelCase with common initialisms upper-cased.
    static func swiftPropertyName(_ protoName: String) -> String {
        let words = protoName.split(separator: "_").map { String($0) }
        var result = ""
        for (index, word) in words.enumerated() {
            if index > 0, initialisms.contains(word.lowercased()) {
                result += word.uppercased()
            } else if index == 0 {
                result += lowerFirst(word)
            } else {
                result += upperFirst(word)
            }
        }
        return result.isEmpty ? "_" : result
    }

    /// `my_choice` → `MyChoice`.
    static func swiftUpperCamel(_ protoName: String) -> String {
        let lower = swiftPropertyName(protoName)
        return upperFirst(lower)
    }

    /// `TICKET_STATUS_OPEN` in enum `TicketStatus` → `open`.
    static func swiftEnumCase(_ valueName: String, enumName: String) -> String {
        let prefix = screamingSnake(enumName) + "_"
        var stripped = valueName.hasPrefix(prefix) ? String(valueName.dropFirst(prefix.count)) : valueName
        if stripped.isEmpty || stripped.first!.isNumber { stripped = valueName }
        return swiftPropertyName(stripped.lowercased())
    }

    /// The enum holding a file's descriptor: `agentplane/v1/control.proto` → `Agentplane_V1_Control_ProtoFile`.
    static func fileDescriptorHolder(_ fileName: String) -> String {
        String(fileName.dropLast(fileName.hasSuffix(".proto") ? 6 : 0))
            .split(separator: "/")
            .map { swiftUpperCamel(String($0)) }
            .joined(separator: "_") + "_ProtoFile"
    }

    /// A Swift identifier, back-quoted when it is a keyword.
    static func escaped(_ identifier: String) -> String {
        swiftKeywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    private static let initialisms: Set<String> = [
        "id", "ids", "url", "uri", "http", "https", "json", "api", "jwt", "llm", "kb", "ip", "uuid", "sse",
    ]

    private static let swiftKeywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
        "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch",
        "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat",
        "return", "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self",
        "Self", "super", "throws", "true", "try", "Type", "Protocol",
    ]

    // MARK: protoc-c

    /// protoc-c's struct name: each dotted piece in CamelCase, joined by `__`.
    static func cStructName(fullName: String) -> String {
        fullName.split(separator: ".").map { toCamel(String($0)) }.joined(separator: "__")
    }

    /// protoc-c's function prefix: each dotted piece camel-to-lower, joined by `__`.
    static func cFunctionPrefix(fullName: String) -> String {
        fullName.split(separator: ".").map { camelToLower(String($0)) }.joined(separator: "__")
    }

    /// protoc-c's struct member for a field: lower-cased, `_` appended to C/C++ keywords.
    static func cFieldName(_ protoName: String) -> String {
        let lower = protoName.lowercased()
        return cKeywords.contains(lower) ? lower + "_" : lower
    }

    private static func toCamel(_ name: String) -> String {
        var result = ""
        var nextUpper = true
        for character in name {
            if character == "_" {
                nextUpper = true
            } else if nextUpper {
                result += character.uppercased()
                nextUpper = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func camelToLower(_ name: String) -> String {
        var result = ""
        var wasUpper = true
        for character in name {
            let isUpper = character.isASCII && character.isUppercase
            if isUpper {
                if !wasUpper { result += "_" }
                result += character.lowercased()
            } else {
                result.append(character)
            }
            wasUpper = isUpper
        }
        return result
    }

    private static func screamingSnake(_ name: String) -> String {
        var result = ""
        var wasUpper = true
        for character in name {
            let isUpper = character.isUppercase
            if isUpper, !wasUpper { result += "_" }
            result += character.uppercased()
            wasUpper = isUpper
        }
        return result
    }

    private static let cKeywords: Set<String> = [
        "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char",
        "class", "compl", "const", "const_cast", "continue", "default", "delete", "do", "double",
        "dynamic_cast", "else", "enum", "explicit", "extern", "false", "float", "for", "friend", "goto",
        "if", "inline", "int", "long", "mutable", "namespace", "new", "not", "not_eq", "operator", "or",
        "or_eq", "private", "protected", "public", "register", "reinterpret_cast", "return", "short",
        "signed", "sizeof", "static", "static_cast", "struct", "switch", "template", "this", "throw",
        "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void",
        "volatile", "wchar_t", "while", "xor", "xor_eq",
    ]

    private static func upperFirst(_ word: String) -> String {
        word.prefix(1).uppercased() + word.dropFirst()
    }

    private static func lowerFirst(_ word: String) -> String {
        word.prefix(1).lowercased() + word.dropFirst()
    }
}
