/// Converts parsed JSON to a `MessageValue` of a message type, by proto3's JSON mapping: field
/// names json_name or proto name, `null` for unset, 64-bit integers from strings or numbers, enums
/// by name or number, the well-known types in their special forms.
struct JSONToMessage {
    let schema: ProtoSchema
    let limits: ProtoJSONLimits
    var path = FieldPath()

    init(schema: ProtoSchema, limits: ProtoJSONLimits) {
        self.schema = schema
        self.limits = limits
    }

    /// The message `type` that `json` (an object, or a well-known type's form) at nesting `depth`
    /// denotes. A message object counts toward the depth even when empty (it is written back with
    /// its fields), unlike an empty JSON container.
    mutating func message(_ json: JSONValue, type: MessageSchema, depth: Int) throws(ProtoJSONError) -> MessageValue {
        if let wellKnown = type.wellKnown { return try wellKnownMessage(json, wellKnown, type: type, depth: depth) }
        guard case .object(let members) = json else {
            throw path.error("expected an object (\(type.fullName)), got \(json.kindDescription)")
        }
        guard depth <= limits.maxDepth else { throw path.error("nesting deeper than \(limits.maxDepth) levels") }
        var message = MessageValue()
        var namesUsed: [Int32: [UInt8]] = [:]
        var oneofMembers: [Int: [UInt8]] = [:]
        for member in members {
            guard let field = type.field(named: member.key) else {
                throw path.error("unknown field \(JSONQuoting.quoted(member.key)) in \(type.fullName)")
            }
            if let earlier = namesUsed[field.number] {
                throw path.error(
                    "field \(JSONQuoting.quoted(field.name)) is given twice (as \(JSONQuoting.quoted(earlier)) and "
                        + "\(JSONQuoting.quoted(member.key)))")
            }
            namesUsed[field.number] = member.key
            if case .null = member.value, !Self.acceptsNull(field.kind) || field.isRepeated || field.isMap {
                continue
            }
            path.push(.keyBytes(member.key))
            if let oneof = field.oneofIndex {
                if let other = oneofMembers[oneof] {
                    throw path.error(
                        "oneof \(JSONQuoting.quoted(type.oneofNames[oneof])) already has \(JSONQuoting.quoted(other)) set"
                    )
                }
                oneofMembers[oneof] = member.key
            }
            message.fields[field.number] = try fieldValue(member.value, field: field, depth: depth + 1)
            path.pop()
        }
        return message
    }

    /// The content of `field` from `json` at nesting `depth`: an array for a repeated field, an
    /// object for a map.
    mutating func fieldValue(_ json: JSONValue, field: FieldSchema, depth: Int) throws(ProtoJSONError) -> FieldValue {
        if field.isMap, let keyKind = field.mapKey, let valueKind = field.mapValue {
            guard case .object(let members) = json else {
                throw path.error("expected an object (map), got \(json.kindDescription)")
            }
            var entries: [MapKey: Element] = [:]
            for member in members {
                path.push(.keyBytes(member.key))
                let key = try mapKey(member.key, kind: keyKind)
                guard entries[key] == nil else { throw path.error("the map key is given twice") }
                if case .null = member.value, !Self.acceptsNull(valueKind) {
                    throw path.error("a map value cannot be null")
                }
                entries[key] = try element(member.value, kind: valueKind, depth: depth + 1)
                path.pop()
            }
            return .map(entries)
        }
        if field.isRepeated {
            guard case .array(let items) = json else {
                throw path.error("expected an array, got \(json.kindDescription)")
            }
            var elements: [Element] = []
            elements.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                path.push(.index(index))
                if case .null = item, !Self.acceptsNull(field.kind) {
                    throw path.error("an element of a repeated field cannot be null")
                }
                elements.append(try element(item, kind: field.kind, depth: depth + 1))
                path.pop()
            }
            return .list(elements)
        }
        return .single(try element(json, kind: field.kind, depth: depth))
    }

    /// Whether `null` is a value of the kind rather than "unset": `google.protobuf.Value` (its
    /// null_value) and the `google.protobuf.NullValue` enum.
    static func acceptsNull(_ kind: FieldKind) -> Bool {
        kind == .message(WellKnownType.valueMessage) || kind == .enumeration(WellKnownType.nullValueEnum)
    }

    /// One value of `kind` at nesting `depth`.
    mutating func element(_ json: JSONValue, kind: FieldKind, depth: Int) throws(ProtoJSONError) -> Element {
        switch kind {
        case .int32, .sint32, .sfixed32:
            return .signed(Int64(try integer(json, in: Int128(Int32.min)...Int128(Int32.max), kind)), kind: kind)
        case .int64, .sint64, .sfixed64:
            return .signed(Int64(try integer(json, in: Int128(Int64.min)...Int128(Int64.max), kind)), kind: kind)
        case .uint32, .fixed32:
            return .unsigned(UInt64(try integer(json, in: 0...Int128(UInt32.max), kind)), kind: kind)
        case .uint64, .fixed64:
            return .unsigned(UInt64(try integer(json, in: 0...Int128(UInt64.max), kind)), kind: kind)
        case .bool:
            guard case .bool(let value) = json else {
                throw path.error("expected true or false, got \(json.kindDescription)")
            }
            return .varint(value ? 1 : 0)
        case .double: return .fixed64(try double(json).bitPattern)
        case .float: return .fixed32(try float(json).bitPattern)
        case .string:
            guard case .string(let value) = json else {
                throw path.error("expected a string, got \(json.kindDescription)")
            }
            return .bytes(value)
        case .bytes:
            guard case .string(let text) = json else {
                throw path.error("expected a base64 string, got \(json.kindDescription)")
            }
            guard let value = Base64.decode(text) else { throw path.error("expected a base64 string") }
            return .bytes(value)
        case .enumeration(let name):
            return .signed(Int64(try enumNumber(json, enumName: name)), kind: kind)
        case .message(let name):
            guard let type = schema.message(name) else { throw path.error("unknown message type \(name)") }
            return .message(try message(json, type: type, depth: depth))
        }
    }

    /// An exact integer within `range`, from a JSON number or a string holding one (`"12"`, `1e2`).
    mutating func integer(_ json: JSONValue, in range: ClosedRange<Int128>, _ kind: FieldKind) throws(ProtoJSONError)
        -> Int128
    {
        let text: [UInt8]
        switch json {
        case .number(let literal): text = literal
        case .string(let literal):
            guard literal.count <= limits.maxNumberLength else {
                throw path.error("a number longer than \(limits.maxNumberLength) characters")
            }
            guard NumberText.isNumber(literal) else {
                throw path.error("expected an integer (\(kind.protoName)), got \(JSONQuoting.quoted(literal))")
            }
            text = literal
        default: throw path.error("expected an integer (\(kind.protoName)), got \(json.kindDescription)")
        }
        switch NumberText.integer(text) {
        case .value(let value) where range.contains(value): return value
        case .notInteger:
            throw path.error("expected an integer (\(kind.protoName)), got \(String(decoding: text, as: UTF8.self))")
        case .value, .outOfRange:
            throw path.error("\(String(decoding: text, as: UTF8.self)) is out of range for \(kind.protoName)")
        }
    }

    /// A double from a number, a numeric string, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
    mutating func double(_ json: JSONValue) throws(ProtoJSONError) -> Double {
        let text = try floatingText(json, "double")
        if let special = Self.special(text) { return special }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
            throw path.error("\(String(decoding: text, as: UTF8.self)) is out of range for double")
        }
        return value
    }

    /// A float, as `double` reads one; a value past the float range is an error.
    mutating func float(_ json: JSONValue) throws(ProtoJSONError) -> Float {
        let text = try floatingText(json, "float")
        if let special = Self.special(text) { return Float(special) }
        guard let value = Float(String(decoding: text, as: UTF8.self)), value.isFinite else {
            throw path.error("\(String(decoding: text, as: UTF8.self)) is out of range for float")
        }
        return value
    }

    /// The number's text, or a string's when it is a number or a special value's name.
    private func floatingText(_ json: JSONValue, _ type: String) throws(ProtoJSONError) -> [UInt8] {
        switch json {
        case .number(let text): return text
        case .string(let text):
            guard Self.special(text) != nil || (text.count <= limits.maxNumberLength && NumberText.isNumber(text))
            else {
                throw path.error("expected a number (\(type)), got \(JSONQuoting.quoted(text))")
            }
            return text
        default: throw path.error("expected a number (\(type)), got \(json.kindDescription)")
        }
    }

    private static func special(_ text: [UInt8]) -> Double? {
        switch String(decoding: text, as: UTF8.self) {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: nil
        }
    }

    /// An enum value's number from its name, or from an integer (a number not declared is kept).
    mutating func enumNumber(_ json: JSONValue, enumName: String) throws(ProtoJSONError) -> Int32 {
        guard let enumeration = schema.enumeration(enumName) else { throw path.error("unknown enum type \(enumName)") }
        switch json {
        case .null where enumName == WellKnownType.nullValueEnum: return 0
        case .string(let name):
            guard let number = enumeration.number(named: name) else {
                throw path.error("unknown value \(JSONQuoting.quoted(name)) for enum \(enumName)")
            }
            return number
        case .number:
            return Int32(try integer(json, in: Int128(Int32.min)...Int128(Int32.max), .enumeration(enumName)))
        default: throw path.error("expected an enum value name (\(enumName)), got \(json.kindDescription)")
        }
    }

    /// A map key from its JSON member name.
    private mutating func mapKey(_ key: [UInt8], kind: FieldKind) throws(ProtoJSONError) -> MapKey {
        switch kind {
        case .string: return .string(key)
        case .bool:
            switch String(decoding: key, as: UTF8.self) {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw path.error("expected a map key of true or false")
            }
        case .int32, .sint32, .sfixed32, .int64, .sint64, .sfixed64, .uint32, .fixed32, .uint64, .fixed64:
            guard NumberText.isDecimalInteger(key), key.count <= limits.maxNumberLength else {
                throw path.error("expected an integer map key (\(kind.protoName))")
            }
            switch try element(.number(key), kind: kind, depth: 0) {
            case .varint(let value) where kind == .sint32 || kind == .sint64:
                return .signed(WireWriter.unZigZag(value))
            case .varint(let value) where kind == .uint32 || kind == .uint64: return .unsigned(value)
            case .varint(let value): return .signed(Int64(bitPattern: value))
            case .fixed32(let value) where kind == .sfixed32: return .signed(Int64(Int32(bitPattern: value)))
            case .fixed32(let value): return .unsigned(UInt64(value))
            case .fixed64(let value) where kind == .sfixed64: return .signed(Int64(bitPattern: value))
            case .fixed64(let value): return .unsigned(value)
            default: throw path.error("expected an integer map key (\(kind.protoName))")
            }
        default: throw path.error("a map key cannot be of type \(kind.protoName)")
        }
    }
}
