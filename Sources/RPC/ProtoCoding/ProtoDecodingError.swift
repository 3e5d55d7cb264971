/// Why a buffer could not be decoded as a message.
///
/// The code is a struct rather than an enum so that new reasons can be added without
/// breaking callers that switch over it.
public struct ProtoDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of decoding failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case malformed, invalidUTF8, tooDeep, embeddedNUL
        }
        private let value: Value

        /// The bytes are not a valid encoding of the message: truncated, a wrong wire type,
        /// an overlong varint, a length past the end of the buffer, or a zero field number.
        public static let malformed = Code(value: .malformed)
        /// A string field holds bytes that are not valid UTF-8.
        public static let invalidUTF8 = Code(value: .invalidUTF8)
        /// Messages are nested deeper than the decoder allows.
        public static let tooDeep = Code(value: .tooDeep)
        /// A string field holds a 0 byte, which protobuf-c's C strings cannot carry; the
        /// message names the field by its path, e.g. `agentplane.v1.GetAgentRequest.agent_id`.
        public static let embeddedNUL = Code(value: .embeddedNUL)

        /// A short name for the kind.
        public var description: String {
            switch value {
            case .malformed: "malformed"
            case .invalidUTF8: "invalid UTF-8"
            case .tooDeep: "nested too deep"
            case .embeddedNUL: "NUL in a string"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// The message type that was being decoded.
    public var messageName: String
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    public init(code: Code, messageName: String, message: String) {
        self.code = code
        self.messageName = messageName
        self.message = message
    }

    /// The whole error in one line.
    public var description: String {
        "cannot decode \(messageName): \(code): \(message)"
    }
}
