/// What a field holds: one of protobuf's scalar types, an enum or a message.
public enum FieldKind: Sendable, Hashable {
    case double
    case float
    case int64
    case uint64
    case int32
    case fixed64
    case fixed32
    case bool
    case string
    case bytes
    case uint32
    case sfixed32
    case sfixed64
    case sint32
    case sint64
    /// An enum, by its full name (`agentplane.v1.Role`).
    case enumeration(String)
    /// A message, by its full name (`google.protobuf.Timestamp`).
    case message(String)

    /// The kind's name as written in a .proto file (`int64`, or the type's full name).
    public var protoName: String {
        switch self {
        case .double: "double"
        case .float: "float"
        case .int64: "int64"
        case .uint64: "uint64"
        case .int32: "int32"
        case .fixed64: "fixed64"
        case .fixed32: "fixed32"
        case .bool: "bool"
        case .string: "string"
        case .bytes: "bytes"
        case .uint32: "uint32"
        case .sfixed32: "sfixed32"
        case .sfixed64: "sfixed64"
        case .sint32: "sint32"
        case .sint64: "sint64"
        case .enumeration(let name): name
        case .message(let name): name
        }
    }

    /// The wire type a single value of this kind is written with.
    var wireType: WireType {
        switch self {
        case .int64, .uint64, .int32, .bool, .uint32, .sint32, .sint64, .enumeration: .varint
        case .double, .fixed64, .sfixed64: .fixed64
        case .float, .fixed32, .sfixed32: .fixed32
        case .string, .bytes, .message: .lengthDelimited
        }
    }

    /// Whether repeated values of this kind can be packed (numbers, bools and enums).
    var isPackable: Bool { wireType != .lengthDelimited }
}

/// One field of a message, as its descriptor declares it.
public struct FieldSchema: Sendable, Hashable {
    /// The name in the .proto file (`agent_id`).
    public let name: String
    /// The JSON name (`agentId`): the descriptor's `json_name`, or lowerCamelCase by protobuf's rule.
    public let jsonName: String
    /// The field number.
    public let number: Int32
    /// What the field holds; for a map, its entry message.
    public let kind: FieldKind
    /// True for a repeated field that is not a map.
    public let isRepeated: Bool
    /// True for a map field; then `mapKey` and `mapValue` are set.
    public let isMap: Bool
    /// A map's key kind.
    public let mapKey: FieldKind?
    /// A map's value kind.
    public let mapValue: FieldKind?
    /// The index in `MessageSchema.oneofNames` of the oneof the field belongs to; nil outside a oneof
    /// and for proto3 `optional` fields (whose synthetic oneofs are not listed).
    public let oneofIndex: Int?
    /// True for a proto3 `optional` field.
    public let isProto3Optional: Bool
    /// True when repeated values are written packed (proto3's default for numbers).
    public let isPacked: Bool
    /// True when the field tracks presence: a message, a oneof member, a proto3 `optional` field or
    /// a proto2 `optional` field. Such fields are written to JSON only when set.
    public let hasPresence: Bool
    /// The JSON name as an object key, quoted and followed by `:`, ready to write.
    let jsonKey: [UInt8]
}
