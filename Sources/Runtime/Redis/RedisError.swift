/// A failure talking to Redis, or a reply that is not what the caller asked for.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; a struct so new kinds can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// The connection could not be made, or was lost; the pool opens a new one next time.
        public static let connection = Code(name: "connection failure")
        /// The server did not answer within the command timeout; the connection was discarded.
        public static let timeout = Code(name: "timeout")
        /// The server answered with an error reply (`WRONGTYPE`, `NOSCRIPT`, `ERR ...`).
        public static let server = Code(name: "server error")
        /// The server sent something that is not RESP2.
        public static let `protocol` = Code(name: "protocol error")
        /// No pooled connection became free within the wait timeout.
        public static let poolTimeout = Code(name: "pool timeout")
        /// A reply is not of the type asked for.
        public static let decoding = Code(name: "decoding failure")
        /// A Redis URL or configuration value is invalid.
        public static let configuration = Code(name: "configuration error")
        /// A caller passed something Redis cannot take (an empty command, an empty tenant).
        public static let invalidArgument = Code(name: "invalid argument")

        /// The kind's name.
        public var description: String { name }
    }

    /// The kind.
    public var code: Code
    /// The server's or our explanation.
    public var message: String

    /// An error of a kind.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// For a server error, its first word by Redis convention (`WRONGTYPE`, `NOSCRIPT`, `BUSY`,
    /// `ERR`), so callers can branch on the kind without parsing the message.
    public var serverErrorPrefix: String? {
        guard code == .server, let word = message.split(separator: " ", maxSplits: 1).first else { return nil }
        return String(word)
    }

    /// `kind: message`.
    public var description: String { "\(code): \(message)" }
}
