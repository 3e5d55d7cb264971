/// One row of a result, in PostgreSQL's text format, read by column name or position.
public struct PostgresRow: Sendable {
    /// The column names, in order.
    public let columns: [String]
    /// The values, nil for SQL NULL.
    public let values: [String?]

    /// The text of a column, nil for NULL.
    public subscript(_ column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return values[index]
    }

    /// A column decoded as `type`; throws for NULL or a value that is not one.
    public func decode<Value: PostgresDecodable>(_ column: String, as type: Value.Type = Value.self) throws -> Value {
        guard let index = columns.firstIndex(of: column) else {
            throw PostgresError(code: .decoding, message: "no column '\(column)' in \(columns)")
        }
        guard let text = values[index] else {
            throw PostgresError(code: .decoding, message: "column '\(column)' is NULL")
        }
        guard let value = Value(postgresText: text) else {
            throw PostgresError(code: .decoding, message: "column '\(column)' is not a \(Value.self): \(text)")
        }
        return value
    }
}

/// A Swift type read from PostgreSQL's text format.
public protocol PostgresDecodable: Sendable {
    /// The value, or nil when the text is not one.
    init?(postgresText text: String)
}

extension String: PostgresDecodable {
    /// The text itself.
    public init?(postgresText text: String) { self = text }
}

extension Int: PostgresDecodable {
    /// A decimal integer.
    public init?(postgresText text: String) { self.init(text) }
}

extension Int64: PostgresDecodable {
    /// A decimal integer.
    public init?(postgresText text: String) { self.init(text) }
}

extension Double: PostgresDecodable {
    /// A decimal number.
    public init?(postgresText text: String) { self.init(text) }
}

extension Bool: PostgresDecodable {
    /// `t` or `f`.
    public init?(postgresText text: String) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

/// A parameter of a statement, sent as text (`nil` is SQL NULL).
public protocol PostgresEncodable: Sendable {
    /// The text PostgreSQL parses the parameter from.
    var postgresText: String { get }
}

extension String: PostgresEncodable {
    /// The text itself.
    public var postgresText: String { self }
}

extension Int: PostgresEncodable {
    /// Decimal.
    public var postgresText: String { String(self) }
}

extension Int64: PostgresEncodable {
    /// Decimal.
    public var postgresText: String { String(self) }
}

extension Double: PostgresEncodable {
    /// Decimal, exactly.
    public var postgresText: String { "\(self)" }
}

extension Bool: PostgresEncodable {
    /// `t` or `f`.
    public var postgresText: String { self ? "t" : "f" }
}
