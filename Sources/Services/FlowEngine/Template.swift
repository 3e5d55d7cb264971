import Foundation

/// A string with `{{path}}` placeholders, parsed once when the flow is compiled.
struct Template: Sendable {
    enum Part: Sendable {
        case literal(String)
        case path(ValuePath)
    }

    let parts: [Part]

    /// Why a template does not parse, with the offset (in characters) of the problem.
    struct ParseError: Error {
        let message: String
        let position: Int
    }

    /// Parses `text`; an unclosed `{{` or a malformed path is an error.
    init(_ text: String) throws(ParseError) {
        var parts: [Part] = []
        var rest = Substring(text)
        var offset = 0
        while let open = rest.range(of: "{{") {
            let literal = rest[rest.startIndex..<open.lowerBound]
            if !literal.isEmpty { parts.append(.literal(String(literal))) }
            offset += literal.count
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw ParseError(message: "unclosed '{{'", position: offset)
            }
            let inner = afterOpen[afterOpen.startIndex..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let path = ValuePath(inner) else {
                throw ParseError(
                    message: "'\(inner)' is not a path like input, state.channel or state.obj.field",
                    position: offset + 2)
            }
            parts.append(.path(path))
            offset += 2 + afterOpen.distance(from: afterOpen.startIndex, to: close.upperBound)
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    /// The only placeholder when the template is exactly one `{{path}}` (so the raw value is used).
    var singlePath: ValuePath? {
        if parts.count == 1, case .path(let path) = parts[0] { return path }
        return nil
    }

    /// The paths the template reads.
    var paths: [ValuePath] {
        parts.compactMap { if case .path(let path) = $0 { path } else { nil } }
    }

    /// The text with every placeholder replaced; a missing value renders as "". Rendering stops
    /// once the text passes `limit` UTF-8 bytes (a template repeating a large value many times
    /// would otherwise build gigabytes before anything could measure it).
    func render(_ state: [String: JSONValue], limit: Int = .max) throws(TemplateTooLarge) -> String {
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        var output = ""
        for part in parts {
            switch part {
            case .literal(let text): output += text
            case .path(let path): output += path.resolve(in: state)?.templateText ?? ""
            }
            if output.utf8.count > limit { throw TemplateTooLarge(limit: limit) }
        }
        return output
    }
}

/// A template's text passed the run's limit while it was rendered.
struct TemplateTooLarge: Error {
    /// The limit, in UTF-8 bytes.
    let limit: Int
}

/// A JSON value whose strings are templates (tool arguments, `set` values).
indirect enum ValueTemplate: Sendable {
    case literal(JSONValue)
    case text(Template)
    case value(ValuePath)
    case array([ValueTemplate])
    case object([(String, ValueTemplate)])

    /// Compiles `value`; strings with placeholders become templates. Errors carry the JSON path.
    static func compile(_ value: JSONValue, path: String, errors: inout [FlowIssue]) -> ValueTemplate {
        switch value {
        case .string(let text):
            guard text.contains("{{") else { return .literal(value) }
            do {
                let template = try Template(text)
                if let single = template.singlePath { return .value(single) }
                return .text(template)
            } catch {
                errors.append(
                    FlowIssue(
                        path: path, code: "BAD_TEMPLATE",
                        message: "\(error.message) at character \(error.position)"))
                return .literal(value)
            }
        case .array(let elements):
            let compiled = elements.enumerated().map { compile($1, path: "\(path)[\($0)]", errors: &errors) }
            if compiled.allSatisfy({ if case .literal = $0 { true } else { false } }) { return .literal(value) }
            return .array(compiled)
        case .object(let members):
            let compiled = members.keys.sorted().map { key in
                (key, compile(members[key]!, path: "\(path).\(key)", errors: &errors))
            }
            if compiled.allSatisfy({ if case .literal = $1 { true } else { false } }) { return .literal(value) }
            return .object(compiled)
        default:
            return .literal(value)
        }
    }

    /// The value with every template rendered against `state`, each text at most `limit` bytes.
    func render(_ state: [String: JSONValue], limit: Int = .max) throws(TemplateTooLarge) -> JSONValue {
        switch self {
        case .literal(let value): return value
        case .text(let template): return .string(try template.render(state, limit: limit))
        case .value(let path): return path.resolve(in: state) ?? .null
        case .array(let elements):
            var values: [JSONValue] = []
            for element in elements { values.append(try element.render(state, limit: limit)) }
            return .array(values)
        case .object(let members):
            var object: [String: JSONValue] = [:]
            for (key, template) in members { object[key] = try template.render(state, limit: limit) }
            return .object(object)
        }
    }

    /// Every path read by the value's templates.
    var paths: [ValuePath] {
        switch self {
        case .literal: return []
        case .text(let template): return template.paths
        case .value(let path): return [path]
        case .array(let elements): return elements.flatMap(\.paths)
        case .object(let members): return members.flatMap(\.1.paths)
        }
    }
}
