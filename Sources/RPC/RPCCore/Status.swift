/// The outcome of an RPC: a gRPC status code and a message for people.
public struct Status: Hashable, Sendable, CustomStringConvertible {
    /// A gRPC status code. A struct rather than an enum, so that codes this version does not
    /// know (a peer may send any number) survive a round trip.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The number sent in `grpc-status`.
        public let rawValue: Int

        /// A code from its wire number.
        public init(rawValue: Int) {
            self.rawValue = rawValue
        }

        /// Success.
        public static let ok = Code(rawValue: 0)
        /// The call was cancelled, typically by the caller.
        public static let cancelled = Code(rawValue: 1)
        /// An error with no better code.
        public static let unknown = Code(rawValue: 2)
        /// The request is invalid regardless of the system's state.
        public static let invalidArgument = Code(rawValue: 3)
        /// The deadline passed before the call completed.
        public static let deadlineExceeded = Code(rawValue: 4)
        /// Something requested was not found.
        public static let notFound = Code(rawValue: 5)
        /// Something to be created already exists.
        public static let alreadyExists = Code(rawValue: 6)
        /// The caller may not do this.
        public static let permissionDenied = Code(rawValue: 7)
        /// A quota, rate limit or size limit was hit.
        public static let resourceExhausted = Code(rawValue: 8)
        /// The system is not in a state the call requires.
        public static let failedPrecondition = Code(rawValue: 9)
        /// Aborted, typically by a concurrency conflict.
        public static let aborted = Code(rawValue: 10)
        /// Past a valid range.
        public static let outOfRange = Code(rawValue: 11)
        /// The method is not implemented or not known.
        public static let unimplemented = Code(rawValue: 12)
        /// An invariant was broken.
        public static let internalError = Code(rawValue: 13)
        /// The service is unavailable now; retrying may help.
        public static let unavailable = Code(rawValue: 14)
        /// Data was lost or corrupted.
        public static let dataLoss = Code(rawValue: 15)
        /// The caller is not authenticated.
        public static let unauthenticated = Code(rawValue: 16)

        private static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
            "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
            "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
        ]

        /// The code's canonical name, e.g. `NOT_FOUND`.
        public var description: String {
            Self.names.indices.contains(rawValue) ? Self.names[rawValue] : "CODE(\(rawValue))"
        }
    }

    /// The code.
    public var code: Code
    /// The message, sent percent-encoded in `grpc-message`.
    public var message: String

    /// A status with a code and message.
    public init(code: Code, message: String = "") {
        self.code = code
        self.message = message
    }

    /// The status of a successful call.
    public static let ok = Status(code: .ok)

    /// `CODE: message`.
    public var description: String {
        message.isEmpty ? code.description : "\(code): \(message)"
    }
}
