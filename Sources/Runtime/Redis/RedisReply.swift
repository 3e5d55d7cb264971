/// A reply from Redis: one of the six RESP2 types.
public enum RedisReply: Hashable, Sendable {
    /// A simple status such as `OK` or `PONG`.
    case status(String)
    /// An error reply. `send` throws these; they appear as values only inside a pipeline's
    /// results or nested in an array (the results of `EXEC`).
    case error(String)
    /// An integer.
    case integer(Int64)
    /// A bulk string: arbitrary bytes.
    case bulk([UInt8])
    /// No value (a missing key, a timed-out blocking pop).
    case null
    /// An array of replies, possibly nested.
    case array([RedisReply])

    /// Whether this is the null reply.
    public var isNull: Bool { self == .null }

    /// The text of a bulk string (which must be valid UTF-8) or of a status.
    public func string() throws -> String {
        switch self {
        case .status(let text):
            return text
        case .bulk(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw RedisError(code: .decoding, message: "the bulk reply of \(bytes.count) bytes is not valid UTF-8")
            }
            return text
        default:
            throw mismatch("a string")
        }
    }

    /// An integer reply, or a bulk string holding a decimal integer (what `GET` returns for a
    /// counter made by `INCR`).
    public func int() throws -> Int64 {
        switch self {
        case .integer(let value):
            return value
        case .bulk(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self), let value = Int64(text) else {
                throw mismatch("an integer")
            }
            return value
        default:
            throw mismatch("an integer")
        }
    }

    /// The bytes of a bulk string or status.
    public func bytes() throws -> [UInt8] {
        switch self {
        case .bulk(let bytes): return bytes
        case .status(let text): return Array(text.utf8)
        default: throw mismatch("bytes")
        }
    }

    /// The elements of an array reply.
    public func array() throws -> [RedisReply] {
        guard case .array(let elements) = self else { throw mismatch("an array") }
        return elements
    }

    private func mismatch(_ wanted: String) -> RedisError {
        RedisError(code: .decoding, message: "expected \(wanted), got \(kind)")
    }

    private var kind: String {
        switch self {
        case .status(let text): "status \(text)"
        case .error(let text): "error \(text)"
        case .integer(let value): "integer \(value)"
        case .bulk(let bytes): "bulk string of \(bytes.count) bytes"
        case .null: "null"
        case .array(let elements): "array of \(elements.count)"
        }
    }
}

extension RedisReply: CustomStringConvertible {
    /// A readable rendering for logs and test failures; bytes that are not UTF-8 are replaced.
    public var description: String {
        switch self {
        case .status(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let bytes):
            "\"\(String(decoding: bytes.prefix(200), as: UTF8.self))\(bytes.count > 200 ? "…" : "")\""
        case .null: "(nil)"
        case .array(let elements): "[\(elements.map(\.description).joined(separator: ", "))]"
        }
    }
}
