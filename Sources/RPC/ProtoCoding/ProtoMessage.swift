public import FoundationEssentials

/// A protobuf message as a Swift value: encodes to and decodes from the protobuf wire format.
///
/// Generated model types conform to it; the bytes are packed and unpacked by protobuf-c.
public protocol ProtoMessage: Sendable, Hashable {
    /// The message's fully qualified protobuf name, e.g. `agentplane.v1.Agent`.
    static var protoMessageName: String { get }

    /// The .proto file that declares the message, as server reflection serves it.
    static var protoFile: ProtoFileDescriptor { get }

    /// A message with every field at its default value.
    init()

    /// Decodes a message from its wire format.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)

    /// Encodes the message to its wire format.
    func serializedBytes() -> [UInt8]
}

extension ProtoMessage {
    /// Decodes a message from its wire format.
    @inlinable
    public init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        // withUnsafeBytes only rethrows untyped errors, so the typed error travels in a Result.
        self = try bytes.withUnsafeBytes { raw in
            Result { () throws(ProtoDecodingError) in try Self(serializedBytes: raw) }
        }.get()
    }

    /// Decodes a message from its wire format.
    @inlinable
    public init(serializedData data: Data) throws(ProtoDecodingError) {
        self = try data.withUnsafeBytes { raw in
            Result { () throws(ProtoDecodingError) in try Self(serializedBytes: raw) }
        }.get()
    }

    /// Encodes the message to its wire format, as `Data`.
    @inlinable
    public func serializedData() -> Data {
        Data(serializedBytes())
    }
}

/// A protobuf enum as a Swift enum that keeps values it does not know (proto3 open enums).
public protocol ProtoEnum: RawRepresentable, Sendable, Hashable where RawValue == Int32 {
    /// The enum's fully qualified protobuf name, e.g. `agentplane.v1.Role`.
    static var protoEnumName: String { get }

    /// The value for a wire number; numbers without a case become `UNRECOGNIZED`.
    init(rawValue: Int32)
}
