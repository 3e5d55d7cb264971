/// A failed outbound HTTP call. A response with any status is not an error; this is a call that
/// was refused or produced no usable response.
public struct OutboundHTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; a struct so new kinds can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// The URL, or a redirect's target, was refused by the outbound policy.
        public static let policy = Code(name: "refused by policy")
        /// The call did not complete within its time limit.
        public static let timeout = Code(name: "timeout")
        /// The response body exceeded its size limit; reading stopped.
        public static let tooLarge = Code(name: "response too large")
        /// The server could not be reached, or the connection failed.
        public static let connection = Code(name: "connection failure")
        /// Too many redirects, or a redirect without a usable Location.
        public static let redirect = Code(name: "redirect failure")

        /// The kind's name.
        public var description: String { name }
    }

    /// The kind.
    public var code: Code
    /// What happened, naming the host but never the URL's path or query.
    public var message: String
    /// The policy's reason, for `.policy` errors.
    public var urlError: OutboundURLError?

    /// An error of a kind.
    public init(code: Code, message: String, urlError: OutboundURLError? = nil) {
        self.code = code
        self.message = message
        self.urlError = urlError
    }

    /// `kind: message`.
    public var description: String { "\(code): \(message)" }
}
