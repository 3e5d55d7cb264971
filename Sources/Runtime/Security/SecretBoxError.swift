/// Why a secret could not be sealed or opened, or a secret box not made.
///
/// Messages name key ids, never key material or plaintext.
public struct SecretBoxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; a struct so new kinds can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// The ciphertext was sealed with a key this box does not have (rotated out too early).
        public static let unknownKeyID = Code(name: "unknown key id")
        /// The ciphertext was altered, or belongs to another context (tenant or record).
        public static let authenticationFailed = Code(name: "authentication failed")
        /// Not a secret box ciphertext: too short, an unknown version, or bad base64.
        public static let malformed = Code(name: "malformed")
        /// The keys given to the box are unusable (wrong length, duplicate or bad ids, none).
        public static let invalidKey = Code(name: "invalid key")

        /// The kind's name.
        public var description: String { name }
    }

    /// The kind.
    public var code: Code
    /// The key id involved, when there is one.
    public var keyID: String?
    /// What went wrong.
    public var message: String

    /// An error of a kind.
    public init(code: Code, keyID: String? = nil, message: String) {
        self.code = code
        self.keyID = keyID
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
