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

extension [UInt8]: PostgresEncodable {
    /// `bytea` in hex form (`\x0a1b…`).
    public var postgresText: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension [UInt8]: PostgresDecodable {
    /// `bytea` in hex form, PostgreSQL's default output.
    public init?(postgresText text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            return nil
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}
