/// Writes wire bytes of a message type as proto3 JSON: json_name keys in field-number order;
/// scalars, enums, repeated fields and maps always (defaults included); messages, oneof members
/// and fields with presence only when set; 64-bit integers as strings; map entries by key.
struct WireToJSON {
    let schema: ProtoSchema
    let limits: ProtoJSONLimits
    let bytes: [UInt8]
    var out = JSONWriter()
    var path = FieldPath()

    init(schema: ProtoSchema, limits: ProtoJSONLimits, bytes: [UInt8]) {
        self.schema = schema
        self.limits = limits
        self.bytes = bytes
        // JSON runs to about twice the wire size (names, quotes, 64-bit numbers as strings):
        // room for it up front saves growing the output again and again.
        out.reserveCapacity(bytes.count * 2 + 64)
    }

    /// The message of `type` in `segments` (read as one), as a JSON value at nesting `depth`
    /// (the top-level object is depth 1). A message object always counts toward the depth; an
    /// empty array or map is a leaf, as the parser sees it.
    mutating func message(_ type: MessageSchema, _ segments: [Range<Int>], depth: Int) throws(ProtoJSONError) {
        if let wellKnown = type.wellKnown {
            try wellKnownMessage(wellKnown, type, segments, depth: depth)
            return
        }
        try checkDepth(depth)
        let fields = try wireFields(segments, type)
        let winners = fields.oneofWinners(type)
        out.raw(UInt8(ascii: "{"))
        var first = true
        for (position, field) in type.fields.enumerated() {
            let values = fields.occurrences(atPosition: position)
            if let oneof = field.oneofIndex {
                guard winners[oneof] == field.number else { continue }
            } else if field.hasPresence, values.isEmpty {
                continue
            }
            if !first { out.raw(UInt8(ascii: ",")) }
            first = false
            out.raw(field.jsonKey)
            path.push(.key(field.jsonName))
            try fieldValue(field, values, fields: fields, depth: depth)
            path.pop()
        }
        out.raw(UInt8(ascii: "}"))
    }

    /// The value of `field` in a message at `depth`: an array, an object for a map, or one value
    /// (the last one on the wire, or the default when there is none; messages merged).
    mutating func fieldValue(_ field: FieldSchema, _ values: [WireValue], fields: WireFields, depth: Int)
        throws(ProtoJSONError)
    {
        if field.isMap {
            try map(field, values, depth: depth + 1)
        } else if field.isRepeated {
            out.raw(UInt8(ascii: "["))
            var index = 0
            for value in values {
                if case .lengthDelimited(let range) = value, field.kind.isPackable {
                    var reader = WireReader(bytes, range: range)
                    while !reader.isAtEnd {
                        let element: WireValue
                        do {
                            switch field.kind.wireType {
                            case .fixed32: element = .fixed32(try reader.readFixed32())
                            case .fixed64: element = .fixed64(try reader.readFixed64())
                            default: element = .varint(try reader.readVarint())
                            }
                        } catch {
                            throw path.error("malformed wire bytes: \(error.reason)")
                        }
                        try arrayElement(field.kind, element, index: index, depth: depth + 1)
                        index += 1
                    }
                } else {
                    try arrayElement(field.kind, value, index: index, depth: depth + 1)
                    index += 1
                }
            }
            out.raw(UInt8(ascii: "]"))
        } else if case .message(let name) = field.kind {
            try message(messageType(name), fields.segments(field.number), depth: depth + 1)
        } else {
            try scalar(field.kind, values.last ?? Self.defaultValue(field.kind))
        }
    }

    private mutating func arrayElement(_ kind: FieldKind, _ value: WireValue, index: Int, depth: Int)
        throws(ProtoJSONError)
    {
        // An empty array is a leaf; one with elements counts toward the depth.
        if index == 0 { try checkDepth(depth) }
        if index > 0 { out.raw(UInt8(ascii: ",")) }
        path.push(.index(index))
        if case .message(let name) = kind {
            guard case .lengthDelimited(let range) = value else { throw path.error("malformed wire bytes") }
            try message(messageType(name), [range], depth: depth + 1)
        } else {
            try scalar(kind, value)
        }
        path.pop()
    }

    /// A map as an object at `depth`, keys in order (numbers by value, strings by bytes); of
    /// entries with the same key the last wins.
    private mutating func map(_ field: FieldSchema, _ values: [WireValue], depth: Int) throws(ProtoJSONError) {
        guard case .message(let entryName) = field.kind, let keyKind = field.mapKey, let valueKind = field.mapValue
        else { throw path.error("malformed map field") }
        if !values.isEmpty { try checkDepth(depth) }
        let entryType = try messageType(entryName)
        var entries: [MapKey: (text: [UInt8], value: [WireValue])] = [:]
        for value in values {
            guard case .lengthDelimited(let range) = value else { throw path.error("malformed wire bytes") }
            let entry = try wireFields([range], entryType)
            let keyValue = entry.occurrences(1).last ?? Self.defaultValue(keyKind)
            let (key, text) = try mapKey(keyKind, keyValue)
            entries[key] = (text, entry.occurrences(2))
        }
        out.raw(UInt8(ascii: "{"))
        var first = true
        for key in entries.keys.sorted() {
            guard let entry = entries[key] else { continue }
            if !first { out.raw(UInt8(ascii: ",")) }
            first = false
            out.string(entry.text)
            out.raw(UInt8(ascii: ":"))
            path.push(.keyBytes(entry.text))
            if case .message(let name) = valueKind {
                let segments = entry.value.compactMap { value -> Range<Int>? in
                    if case .lengthDelimited(let range) = value { return range }
                    return nil
                }
                try message(messageType(name), segments, depth: depth + 1)
            } else {
                try scalar(valueKind, entry.value.last ?? Self.defaultValue(valueKind))
            }
            path.pop()
        }
        out.raw(UInt8(ascii: "}"))
    }

    /// A map key from the wire: its order and its text.
    private func mapKey(_ kind: FieldKind, _ value: WireValue) throws(ProtoJSONError) -> (MapKey, [UInt8]) {
        switch (kind, value) {
        case (.string, .lengthDelimited(let range)):
            guard UTF8Validation.isValid(bytes, range) else { throw path.error("a map key is not valid UTF-8") }
            return (.string(Array(bytes[range])), Array(bytes[range]))
        case (.bool, .varint(let raw)):
            return (.bool(raw != 0), Array((raw != 0 ? "true" : "false").utf8))
        case (.int32, .varint(let raw)), (.int64, .varint(let raw)):
            let number = kind == .int32 ? Int64(Int32(truncatingIfNeeded: raw)) : Int64(bitPattern: raw)
            return (.signed(number), Array(String(number).utf8))
        case (.sint32, .varint(let raw)), (.sint64, .varint(let raw)):
            let number =
                kind == .sint32
                ? Int64(Int32(truncatingIfNeeded: WireWriter.unZigZag(UInt64(UInt32(truncatingIfNeeded: raw)))))
                : WireWriter.unZigZag(raw)
            return (.signed(number), Array(String(number).utf8))
        case (.uint32, .varint(let raw)), (.uint64, .varint(let raw)):
            let number = kind == .uint32 ? UInt64(UInt32(truncatingIfNeeded: raw)) : raw
            return (.unsigned(number), Array(String(number).utf8))
        case (.fixed32, .fixed32(let raw)): return (.unsigned(UInt64(raw)), Array(String(raw).utf8))
        case (.sfixed32, .fixed32(let raw)):
            return (.signed(Int64(Int32(bitPattern: raw))), Array(String(Int32(bitPattern: raw)).utf8))
        case (.fixed64, .fixed64(let raw)): return (.unsigned(raw), Array(String(raw).utf8))
        case (.sfixed64, .fixed64(let raw)):
            return (.signed(Int64(bitPattern: raw)), Array(String(Int64(bitPattern: raw)).utf8))
        default: throw path.error("malformed map key")
        }
    }

    /// One value that is not a message.
    mutating func scalar(_ kind: FieldKind, _ value: WireValue) throws(ProtoJSONError) {
        switch (kind, value) {
        case (.int32, .varint(let raw)): out.number(Int32(truncatingIfNeeded: raw))
        case (.int64, .varint(let raw)): out.quotedNumber(Int64(bitPattern: raw))
        case (.uint32, .varint(let raw)): out.number(UInt32(truncatingIfNeeded: raw))
        case (.uint64, .varint(let raw)): out.quotedNumber(raw)
        case (.sint32, .varint(let raw)):
            out.number(Int32(truncatingIfNeeded: WireWriter.unZigZag(UInt64(UInt32(truncatingIfNeeded: raw)))))
        case (.sint64, .varint(let raw)): out.quotedNumber(WireWriter.unZigZag(raw))
        case (.bool, .varint(let raw)): out.raw(raw != 0 ? "true" : "false")
        case (.enumeration(let name), .varint(let raw)):
            let number = Int32(truncatingIfNeeded: raw)
            if name == WellKnownType.nullValueEnum {
                out.raw("null")
            } else if let valueName = schema.enumeration(name)?.name(of: number) {
                out.string(valueName)
            } else {
                out.number(number)
            }
        case (.fixed32, .fixed32(let raw)): out.number(raw)
        case (.sfixed32, .fixed32(let raw)): out.number(Int32(bitPattern: raw))
        case (.float, .fixed32(let raw)): out.number(Float(bitPattern: raw))
        case (.fixed64, .fixed64(let raw)): out.quotedNumber(raw)
        case (.sfixed64, .fixed64(let raw)): out.quotedNumber(Int64(bitPattern: raw))
        case (.double, .fixed64(let raw)): out.number(Double(bitPattern: raw))
        case (.string, .lengthDelimited(let range)):
            guard UTF8Validation.isValid(bytes, range) else { throw path.error("a string is not valid UTF-8") }
            out.string(bytes, range)
        case (.bytes, .lengthDelimited(let range)):
            out.raw(UInt8(ascii: "\""))
            for byte in Base64.encode(bytes, range) { out.raw(byte) }
            out.raw(UInt8(ascii: "\""))
        default: throw path.error("malformed wire bytes: a \(kind.protoName) value of the wrong wire type")
        }
    }

    /// What an absent value of `kind` reads as: zero, false, empty.
    static func defaultValue(_ kind: FieldKind) -> WireValue {
        switch kind.wireType {
        case .fixed32: .fixed32(0)
        case .fixed64: .fixed64(0)
        case .lengthDelimited: .lengthDelimited(0..<0)
        default: .varint(0)
        }
    }

    func checkDepth(_ depth: Int) throws(ProtoJSONError) {
        guard depth <= limits.maxDepth else { throw path.error("nesting deeper than \(limits.maxDepth) levels") }
    }

    func messageType(_ name: String) throws(ProtoJSONError) -> MessageSchema {
        guard let type = schema.message(name) else { throw path.error("unknown message type \(name)") }
        return type
    }

    func wireFields(_ segments: [Range<Int>], _ type: MessageSchema) throws(ProtoJSONError) -> WireFields {
        do {
            return try WireFields(bytes, segments: segments, type: type, maxDepth: limits.maxDepth)
        } catch {
            throw path.error("malformed wire bytes: \(error.reason)")
        }
    }
}
