/// Why a bearer token was not accepted. Every kind means UNAUTHENTICATED to a caller.
///
/// Messages describe the problem, never the token's content.
public struct TokenVerificationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; a struct so new kinds can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// Not a JWT: wrong number of parts, bad base64url, or JSON that is not an object.
        public static let malformed = Code(name: "malformed")
        /// An algorithm that is not accepted for this issuer, including `none`.
        public static let unsupportedAlgorithm = Code(name: "unsupported algorithm")
        /// The `iss` claim names no issuer this service trusts.
        public static let untrustedIssuer = Code(name: "untrusted issuer")
        /// The `kid` names no key of the issuer.
        public static let unknownKey = Code(name: "unknown key")
        /// The signature does not match.
        public static let badSignature = Code(name: "bad signature")
        /// Past `exp` (beyond the leeway).
        public static let expired = Code(name: "expired")
        /// Before `nbf` or `iat` (beyond the leeway).
        public static let notYetValid = Code(name: "not yet valid")
        /// A required claim is missing or has the wrong type.
        public static let missingClaim = Code(name: "missing claim")
        /// A claim has a value that is not accepted (an unknown role, a wrong token type).
        public static let invalidClaim = Code(name: "invalid claim")
        /// A `typ` that is not a credential (e.g. a refresh token presented as a bearer token).
        public static let wrongType = Code(name: "wrong token type")
        /// The audience does not include this platform.
        public static let wrongAudience = Code(name: "wrong audience")

        /// The kind's name.
        public var description: String { name }
    }

    /// The kind.
    public var code: Code
    /// What was wrong, for the caller and the log.
    public var message: String

    /// An error of a kind.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// A security component was configured with something unusable (a short secret, a bad JWKS).
public struct SecurityConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, naming the setting.
    public var message: String

    /// An error with a message.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
