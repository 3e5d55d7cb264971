/// A failure talking to PostgreSQL, with the server's SQLSTATE when it sent one.
public struct PostgresError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; a struct so new kinds can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// A row with the same unique key exists (23505).
        public static let uniqueViolation = Code(name: "unique violation")
        /// A referenced row does not exist, or a referencing one still does (23503).
        public static let foreignKeyViolation = Code(name: "foreign key violation")
        /// Concurrent transactions conflicted (40001, 40P01); retrying may succeed.
        public static let serializationFailure = Code(name: "serialization failure")
        /// The statement ran past its timeout, or was cancelled (57014).
        public static let queryCanceled = Code(name: "query canceled")
        /// Any other error the server reported for the statement.
        public static let server = Code(name: "server error")
        /// The connection could not be made, or was lost.
        public static let connection = Code(name: "connection failure")
        /// No pooled connection became free within the wait timeout.
        public static let poolTimeout = Code(name: "pool timeout")
        /// A schema migration could not be applied, or was changed after it was.
        public static let migration = Code(name: "migration failure")
        /// A value in a row could not be read as the type asked for.
        public static let decoding = Code(name: "decoding failure")

        /// The kind's name.
        public var description: String { name }
    }

    /// The kind.
    public var code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// The server's or our explanation.
    public var message: String

    /// An error of a kind.
    public init(code: Code, sqlState: String? = nil, message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    /// Whether running the transaction again may succeed.
    public var isRetryable: Bool { code == .serializationFailure }

    /// The error for a SQLSTATE the server reported.
    static func fromServer(sqlState: String?, message: String) -> PostgresError {
        let code: Code =
            switch sqlState {
            case "23505": .uniqueViolation
            case "23503": .foreignKeyViolation
            case "40001", "40P01": .serializationFailure
            case "57014": .queryCanceled
            case let state? where state.hasPrefix("08"): .connection
            default: .server
            }
        return PostgresError(code: code, sqlState: sqlState, message: message)
    }

    /// `kind (SQLSTATE): message`.
    public var description: String {
        "\(code)\(sqlState.map { " (\($0))" } ?? ""): \(message)"
    }
}
