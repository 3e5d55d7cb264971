public import ProtoCoding
public import RPCCore

/// A method of the contract with its message types; generated `Method` enums conform.
///
/// The helpers turn coding failures into the statuses gRPC expects: a request that does not
/// decode is the caller's fault (INVALID_ARGUMENT), a response that does not decode is not
/// (INTERNAL).
public protocol ProtoMethod: SendableMetatype {
    /// The request message.
    associatedtype Input: ProtoMessage
    /// The response message.
    associatedtype Output: ProtoMessage
    /// The method's descriptor.
    static var descriptor: MethodDescriptor { get }
}

extension ProtoMethod {
    /// Decodes a request message, or throws INVALID_ARGUMENT (for a string holding a NUL byte:
    /// "<message>.<field> contains a NUL byte").
    @inlinable
    public static func decodeRequest(_ bytes: [UInt8]) throws(RPCError) -> Input {
        do {
            return try Input(serializedBytes: bytes)
        } catch {
            // A NUL is named by the field's path, never its value.
            if error.code == .embeddedNUL { throw RPCError(code: .invalidArgument, message: error.message) }
            throw RPCError(
                code: .invalidArgument, message: "the request is not a valid \(Input.protoMessageName): \(error)")
        }
    }

    /// Decodes a response message; throws the decoding error (the client turns it into INTERNAL).
    @inlinable
    public static func decodeResponse(_ bytes: [UInt8]) throws -> Output {
        try Output(serializedBytes: bytes)
    }

    /// The request messages of a streaming call, decoded.
    @inlinable
    public static func requestStream(_ source: any RequestSource) -> RequestStream<Input> {
        RequestStream(source: source) { bytes in try decodeRequest(bytes) }
    }

    /// A writer encoding response messages into a sink.
    @inlinable
    public static func responseWriter(_ sink: any ResponseSink) -> ResponseWriter<Output> {
        ResponseWriter(sink: sink) { $0.serializedBytes() }
    }
}
