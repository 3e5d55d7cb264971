import FoundationEssentials

/// Any JSON value, for reading claims whose names and shapes come from configuration.
enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The text, for a string.
    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, for a number.
    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The members, for an object.
    var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Strings of a string or of an array of strings (other elements are skipped).
    var strings: [String] {
        switch self {
        case .string(let value): [value]
        case .array(let values): values.compactMap(\.string)
        default: []
        }
    }

    /// The JSON object in `bytes`; nil when they are not one.
    static func object(from bytes: [UInt8]) -> [String: JSONValue]? {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)))?.object
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// The value of a claim: the member named `name`, or else, when the name has dots, the value
    /// at that path through nested objects (`realm_access.roles`).
    func claim(_ name: String) -> JSONValue? {
        if let value = self[name] { return value }
        let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.count > 1 else { return nil }
        var current: JSONValue? = .object(self)
        for key in path { current = current?.object?[key] }
        return current
    }
}
