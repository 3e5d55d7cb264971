/// The parts of a `.proto` file the generator needs, read once from protoc's request.
struct ProtoFile {
    var name: String
    var package: String
    var dependencies: [String]
    var messages: [MessageType]
    var enums: [EnumType]
    var services: [ServiceType]
    /// The serialized FileDescriptorProto without source info, for server reflection.
    var serializedDescriptor: [UInt8]
}

/// A message type; nested types are kept inside their parent.
final class MessageType {
    let fullName: String
    let name: String
    let fields: [Field]
    let oneofNames: [String]
    let nestedMessages: [MessageType]
    let nestedEnums: [EnumType]
    let isMapEntry: Bool
    let comment: String

    init(
        fullName: String, name: String, fields: [Field], oneofNames: [String],
        nestedMessages: [MessageType], nestedEnums: [EnumType], isMapEntry: Bool, comment: String
    ) {
        self.fullName = fullName
        self.name = name
        self.fields = fields
        self.oneofNames = oneofNames
        self.nestedMessages = nestedMessages
        self.nestedEnums = nestedEnums
        self.isMapEntry = isMapEntry
        self.comment = comment
    }

    /// Fields that are not members of a oneof.
    var plainFields: [Field] { fields.filter { $0.oneofIndex == nil } }

    /// The members of each oneof, in declaration order.
    func oneofMembers(_ index: Int) -> [Field] { fields.filter { $0.oneofIndex == index } }
}

/// A field of a message.
struct Field {
    enum Label { case singular, repeated }

    var name: String
    /// The name in the proto3 JSON mapping (lowerCamelCase unless the field sets `json_name`),
    /// as protoc computes it.
    var jsonName: String
    var number: Int32
    var label: Label
    var kind: FieldKind
    /// For message and enum fields, the fully qualified type name with a leading dot.
    var typeName: String
    var oneofIndex: Int?
    var comment: String
}

/// The wire types of descriptor.proto's `FieldDescriptorProto.Type`.
enum FieldKind: Int32 {
    case double = 1
    case float, int64, uint64, int32, fixed64, fixed32, bool, string, group, message,
        bytes, uint32, enumeration, sfixed32, sfixed64, sint32, sint64
}

/// An enum type.
struct EnumType {
    var fullName: String
    var name: String
    var values: [(name: String, number: Int32, comment: String)]
    var comment: String
}

/// A service and its methods.
struct ServiceType {
    var fullName: String
    var name: String
    var methods: [Method]
    var comment: String

    struct Method {
        var name: String
        var inputType: String
        var outputType: String
        var clientStreaming: Bool
        var serverStreaming: Bool
        var comment: String
    }
}

/// Every type of every file in the request, by fully qualified name with a leading dot.
struct TypeTable {
    private(set) var messages: [String: MessageType] = [:]
    private(set) var enums: [String: EnumType] = [:]

    init(files: [ProtoFile]) {
        for file in files {
            file.messages.forEach { add($0) }
            file.enums.forEach { enums["." + $0.fullName] = $0 }
        }
    }

    private mutating func add(_ message: MessageType) {
        messages["." + message.fullName] = message
        message.nestedEnums.forEach { enums["." + $0.fullName] = $0 }
        message.nestedMessages.forEach { add($0) }
    }

    func message(_ typeName: String) -> MessageType {
        guard let message = messages[typeName] else { fatalError("unknown message type \(typeName)") }
        return message
    }

    func enumType(_ typeName: String) -> EnumType {
        guard let value = enums[typeName] else { fatalError("unknown enum type \(typeName)") }
        return value
    }
}
