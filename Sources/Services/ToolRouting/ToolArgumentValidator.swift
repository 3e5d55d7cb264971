public import FlowEngine
import Foundation
public import RPCCore
import RPCModels
import Runtime

/// Checks ExecuteTool arguments against a tool's `input_schema`: the JSON Schema subset tools
/// declare (`type`, `properties`, `required`, `enum`, `items`, `additionalProperties` as `false` or
/// as the schema of every undeclared member, `minLength` / `maxLength`, `minimum` / `maximum`).
/// Unknown keywords are ignored. The control plane checks tool configs with it too, against each
/// kind's schema (ListToolKinds).
public enum ToolArgumentValidator {
    /// One violation per problem: (JSON path, code, explanation).
    public typealias Violation = (field: String, code: String, explanation: String)

    /// Every way `arguments` break `schema` (none without a schema).
    public static func violations(_ arguments: [String: JSONValue], schema: [String: JSONValue]?) -> [Violation] {
        guard let schema else { return [] }
        var found: [Violation] = []
        check(.object(arguments), schema: schema, path: "arguments", into: &found)
        return found
    }

    /// Every way `value` breaks `schema`, the paths starting at `path` (e.g. "config").
    public static func violations(_ value: JSONValue, schema: [String: JSONValue], path: String) -> [Violation] {
        var found: [Violation] = []
        check(value, schema: schema, path: path, into: &found)
        return found
    }

    /// Whether `schema` is a schema this validator understands (used when saving a tool).
    public static func schemaProblems(_ schema: [String: JSONValue]) -> [Violation] {
        var found: [Violation] = []
        walkSchema(schema, path: "input_schema", into: &found)
        return found
    }

    private static let types: Set<String> = ["object", "array", "string", "number", "integer", "boolean", "null"]

    private static func walkSchema(_ schema: [String: JSONValue], path: String, into found: inout [Violation]) {
        if let type = schema["type"], !(type.stringValue.map(types.contains) ?? false) {
            found.append((path + ".type", "UNKNOWN_TYPE", "type must be one of \(types.sorted())"))
        }
        if let properties = schema["properties"] {
            guard let members = properties.objectValue else {
                found.append((path + ".properties", "NOT_OBJECT", "properties must be an object"))
                return
            }
            for (name, child) in members {
                guard let object = child.objectValue else {
                    found.append((path + ".properties." + name, "NOT_OBJECT", "a property's schema must be an object"))
                    continue
                }
                walkSchema(object, path: path + ".properties." + name, into: &found)
            }
        }
        if let required = schema["required"], required.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            found.append((path + ".required", "NOT_STRINGS", "required must be a list of property names"))
        }
        if let items = schema["items"]?.objectValue { walkSchema(items, path: path + ".items", into: &found) }
        if let additional = schema["additionalProperties"]?.objectValue {
            walkSchema(additional, path: path + ".additionalProperties", into: &found)
        }
        for key in ["minLength", "maxLength"] {
            guard let value = schema[key] else { continue }
            guard let count = value.numberValue, (0...maximumLength).contains(count), count.rounded() == count else {
                found.append((path + "." + key, "NOT_A_COUNT", "\(key) must be a whole number from 0 to 2^53"))
                continue
            }
        }
        for key in ["minimum", "maximum"] {
            guard let value = schema[key] else { continue }
            if value.numberValue?.isFinite != true {
                found.append((path + "." + key, "NOT_A_NUMBER", "\(key) must be a finite number"))
            }
        }
    }

    /// The largest `minLength` / `maxLength` a schema may name (exact in a Double).
    static let maximumLength: Double = 9_007_199_254_740_992

    /// A length bound for a message: whole, and never a trap whatever a stored schema holds.
    private static func lengthText(_ bound: Double, roundedUp: Bool) -> String {
        guard bound.isFinite, abs(bound) <= maximumLength else { return "\(bound)" }
        return String(Int64(roundedUp ? bound.rounded(.up) : bound.rounded(.down)))
    }

    private static func check(
        _ value: JSONValue, schema: [String: JSONValue], path: String, into found: inout [Violation]
    ) {
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
            found.append(
                (path, "NOT_IN_ENUM", "\(path) must be one of \(allowed.map(\.jsonText).joined(separator: ", "))"))
        }
        guard let type = schema["type"]?.stringValue else { return }
        switch (type, value) {
        case ("object", .object(let members)):
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                found.append((path + "." + name, "MISSING_FIELD", "\(path).\(name) is required"))
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let child = properties[name]?.objectValue {
                    check(member, schema: child, path: path + "." + name, into: &found)
                } else if let additional = schema["additionalProperties"]?.objectValue {
                    check(member, schema: additional, path: path + "." + name, into: &found)
                } else if schema["additionalProperties"] == .bool(false) {
                    found.append((path + "." + name, "UNKNOWN_FIELD", "\(path).\(name) is not a declared parameter"))
                }
            }
        case ("array", .array(let items)):
            if let child = schema["items"]?.objectValue {
                for (index, item) in items.enumerated() {
                    check(item, schema: child, path: "\(path)[\(index)]", into: &found)
                }
            }
        case ("string", .string(let text)):
            if let minimum = schema["minLength"]?.numberValue, Double(text.count) < minimum {
                found.append(
                    (path, "TOO_SHORT", "\(path) must have at least \(lengthText(minimum, roundedUp: true)) characters")
                )
            }
            if let maximum = schema["maxLength"]?.numberValue, Double(text.count) > maximum {
                found.append(
                    (path, "TOO_LONG", "\(path) must have at most \(lengthText(maximum, roundedUp: false)) characters"))
            }
        case ("number", .number(let number)), ("integer", .number(let number)):
            if type == "integer", number.rounded() != number {
                found.append((path, "NOT_INTEGER", "\(path) must be an integer"))
            }
            if let minimum = schema["minimum"]?.numberValue, number < minimum {
                found.append((path, "TOO_SMALL", "\(path) must be at least \(minimum)"))
            }
            if let maximum = schema["maximum"]?.numberValue, number > maximum {
                found.append((path, "TOO_LARGE", "\(path) must be at most \(maximum)"))
            }
        case ("boolean", .bool), ("null", .null): break
        default:
            found.append((path, "WRONG_TYPE", "\(path) must be of type \(type)"))
        }
    }

    /// INVALID_ARGUMENT listing every violation.
    public static func error(_ violations: [Violation], what: String) -> RPCError {
        RPCError.withDetails(
            .invalidArgument, "\(what): " + violations.prefix(5).map(\.explanation).joined(separator: "; "),
            reason: "INVALID_ARGUMENTS",
            violations: violations.map { found in
                var violation = Agentplane_V1_FieldViolation()
                violation.field = found.field
                violation.code = found.code
                violation.explanation = found.explanation
                return violation
            })
    }
}
