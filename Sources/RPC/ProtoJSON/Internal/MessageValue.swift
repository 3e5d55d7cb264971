/// A message built from JSON or from request parameters, before it is written as wire bytes:
/// each set field by number, its values already in their wire form.
struct MessageValue: Sendable {
    var fields: [Int32: FieldValue] = [:]

    /// Sets `other`'s fields over these, as request parameters override a body: singular values,
    /// lists and maps are replaced, messages merged field by field, and a oneof member clears the
    /// oneof's other members.
    mutating func overlay(_ other: MessageValue, type: MessageSchema, schema: ProtoSchema) {
        for (number, value) in other.fields {
            guard let field = type.field(number: number) else { continue }
            if let oneof = field.oneofIndex {
                for sibling in type.fields where sibling.oneofIndex == oneof && sibling.number != number {
                    fields[sibling.number] = nil
                }
            }
            if case .single(.message(let overlay)) = value, case .single(.message(var base)) = fields[number],
                case .message(let name) = field.kind, let nestedType = schema.message(name)
            {
                base.overlay(overlay, type: nestedType, schema: schema)
                fields[number] = .single(.message(base))
            } else {
                fields[number] = value
            }
        }
    }
}

/// One field's content.
enum FieldValue: Sendable {
    case single(Element)
    case list([Element])
    case map([MapKey: Element])
}

/// One value in its wire form.
enum Element: Sendable {
    case varint(UInt64)
    case fixed32(UInt32)
    case fixed64(UInt64)
    /// A string's UTF-8 or a bytes field's bytes.
    case bytes([UInt8])
    case message(MessageValue)

    /// Whether proto3 leaves the value out of the wire when the field has no presence. A double's
    /// -0.0 is not a default: its bits are not zero.
    var isDefault: Bool {
        switch self {
        case .varint(let value): value == 0
        case .fixed32(let value): value == 0
        case .fixed64(let value): value == 0
        case .bytes(let value): value.isEmpty
        case .message: false
        }
    }

    /// A signed integer of `kind` (int32, int64, sint32, sint64, sfixed32, sfixed64 or an enum).
    static func signed(_ value: Int64, kind: FieldKind) -> Element {
        switch kind {
        case .sint32, .sint64: .varint(WireWriter.zigZag(value))
        case .sfixed32: .fixed32(UInt32(truncatingIfNeeded: value))
        case .sfixed64: .fixed64(UInt64(bitPattern: value))
        default: .varint(UInt64(bitPattern: value))
        }
    }

    /// An unsigned integer of `kind` (uint32, uint64, fixed32 or fixed64).
    static func unsigned(_ value: UInt64, kind: FieldKind) -> Element {
        switch kind {
        case .fixed32: .fixed32(UInt32(truncatingIfNeeded: value))
        case .fixed64: .fixed64(value)
        default: .varint(value)
        }
    }
}

/// A map key, ordered as protobuf's deterministic serialization orders them (numbers by value,
/// `false` before `true`, strings by their UTF-8 bytes).
enum MapKey: Hashable, Comparable, Sendable {
    case signed(Int64)
    case unsigned(UInt64)
    case bool(Bool)
    case string([UInt8])

    static func < (lhs: MapKey, rhs: MapKey) -> Bool {
        switch (lhs, rhs) {
        case (.signed(let left), .signed(let right)): left < right
        case (.unsigned(let left), .unsigned(let right)): left < right
        case (.bool(let left), .bool(let right)): !left && right
        case (.string(let left), .string(let right)): left.lexicographicallyPrecedes(right)
        default: lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .signed: 0
        case .unsigned: 1
        case .bool: 2
        case .string: 3
        }
    }

    /// The key as a map entry's field 1 of `kind`.
    func element(kind: FieldKind) -> Element {
        switch self {
        case .signed(let value): .signed(value, kind: kind)
        case .unsigned(let value): .unsigned(value, kind: kind)
        case .bool(let value): .varint(value ? 1 : 0)
        case .string(let value): .bytes(value)
        }
    }
}

/// Writes a `MessageValue` as wire bytes the way protobuf's deterministic serialization does:
/// fields by number, proto3 defaults left out (unless the field has presence), numbers packed,
/// map entries by key with both key and value written.
enum MessageWriting {
    static func bytes(of message: MessageValue, type: MessageSchema, schema: ProtoSchema) -> [UInt8] {
        var writer = WireWriter()
        write(message, type: type, schema: schema, to: &writer)
        return writer.bytes
    }

    private static func write(
        _ message: MessageValue, type: MessageSchema, schema: ProtoSchema, to writer: inout WireWriter
    ) {
        for field in type.fields {
            guard let value = message.fields[field.number] else { continue }
            switch value {
            case .single(let element):
                if element.isDefault && !field.hasPresence { continue }
                writer.tag(field.number, field.kind.wireType)
                write(element, kind: field.kind, schema: schema, to: &writer)
            case .list(let elements):
                guard !elements.isEmpty else { continue }
                if field.isPacked {
                    var packed = WireWriter()
                    for element in elements { write(element, kind: field.kind, schema: schema, to: &packed) }
                    writer.tag(field.number, .lengthDelimited)
                    writer.lengthDelimited(packed.bytes)
                } else {
                    for element in elements {
                        writer.tag(field.number, field.kind.wireType)
                        write(element, kind: field.kind, schema: schema, to: &writer)
                    }
                }
            case .map(let entries):
                guard let keyKind = field.mapKey, let valueKind = field.mapValue else { continue }
                for key in entries.keys.sorted() {
                    guard let element = entries[key] else { continue }
                    var entry = WireWriter()
                    entry.tag(1, keyKind.wireType)
                    write(key.element(kind: keyKind), kind: keyKind, schema: schema, to: &entry)
                    entry.tag(2, valueKind.wireType)
                    write(element, kind: valueKind, schema: schema, to: &entry)
                    writer.tag(field.number, .lengthDelimited)
                    writer.lengthDelimited(entry.bytes)
                }
            }
        }
    }

    /// One value without its tag.
    private static func write(_ element: Element, kind: FieldKind, schema: ProtoSchema, to writer: inout WireWriter) {
        switch element {
        case .varint(let value): writer.varint(value)
        case .fixed32(let value): writer.fixed32(value)
        case .fixed64(let value): writer.fixed64(value)
        case .bytes(let value): writer.lengthDelimited(value)
        case .message(let message):
            var nested = WireWriter()
            if case .message(let name) = kind, let type = schema.message(name) {
                write(message, type: type, schema: schema, to: &nested)
            }
            writer.lengthDelimited(nested.bytes)
        }
    }
}
