import FoundationEssentials

/// A .proto file compiled into the program: its name, what it declares and its serialized
/// `google.protobuf.FileDescriptorProto`, as gRPC server reflection serves it.
public struct ProtoFileDescriptor: Sendable, Hashable {
    /// The file's path as imported, e.g. `agentplane/v1/control.proto`.
    public let name: String
    /// The file's protobuf package.
    public let package: String
    /// The files it imports.
    public let dependencies: [String]
    /// Fully qualified names of the messages, enums and services it declares.
    public let symbols: [String]
    private let descriptorBase64: String

    /// Creates a descriptor; generated code calls this.
    public init(
        name: String, package: String, dependencies: [String], symbols: [String],
        descriptorBase64: String
    ) {
        self.name = name
        self.package = package
        self.dependencies = dependencies
        self.symbols = symbols
        self.descriptorBase64 = descriptorBase64
    }

    /// The serialized `FileDescriptorProto` (without source info).
    public var serializedDescriptor: [UInt8] {
        guard let data = Data(base64Encoded: descriptorBase64) else {
            preconditionFailure("generated descriptor for \(name) is not valid base64")
        }
        return [UInt8](data)
    }
}
