extension ProtoSchema {
    /// The JSON name (`userMessage`) of the member set in a oneof of the message in `wire`, or nil
    /// when none is set; the oneof is `oneof` (its proto name) or else the message's first. For
    /// naming Server-Sent Events after the item a stream message carries.
    public func setOneofMember(
        wire: some Collection<UInt8>, as messageType: String, oneof: String? = nil
    ) throws(ProtoJSONError) -> String? {
        let type = try requireMessage(messageType)
        let index: Int
        if let oneof {
            guard let found = type.oneofNames.firstIndex(of: oneof) else {
                throw ProtoJSONError(path: "", reason: "no oneof \(JSONQuoting.quoted(oneof)) in \(type.fullName)")
            }
            index = found
        } else {
            guard !type.oneofNames.isEmpty else { return nil }
            index = 0
        }
        let bytes = Array(wire)
        let fields = try Self.wireFields(bytes, [0..<bytes.count], type, path: "")
        guard index < type.oneofNames.count, let number = fields.oneofWinners(type)[index] else { return nil }
        return type.field(number: number)?.jsonName
    }

    /// The integer field at `path` (proto or JSON names, through singular message fields:
    /// `["event", "sequence"]`) of the message in `wire`; nil when a message on the way is not set
    /// (or is a oneof member that another member displaced), or the field has presence and is not
    /// set. For integers of every type and enums; a uint64 past Int64.max is an error.
    public func integer(
        at path: [String], wire: some Collection<UInt8>, as messageType: String
    ) throws(ProtoJSONError) -> Int64? {
        var type = try requireMessage(messageType)
        let bytes = Array(wire)
        var segments = [0..<bytes.count]
        var walked: [String] = []
        for (position, name) in path.enumerated() {
            walked.append(name)
            let rendered = walked.joined(separator: ".")
            guard let field = type.field(named: name) else {
                throw ProtoJSONError(path: rendered, reason: "unknown field in \(type.fullName)")
            }
            let fields = try Self.wireFields(bytes, segments, type, path: rendered)
            if let oneof = field.oneofIndex, fields.oneofWinners(type)[oneof] != field.number { return nil }
            guard !field.isRepeated, !field.isMap else {
                throw ProtoJSONError(path: rendered, reason: "a repeated or map field")
            }
            if position == path.count - 1 {
                let values = fields.occurrences(field.number)
                if values.isEmpty, field.hasPresence { return nil }
                return try Self.integerValue(
                    field.kind, values.last ?? WireToJSON.defaultValue(field.kind), path: rendered)
            }
            guard case .message(let name) = field.kind, let nested = message(name) else {
                throw ProtoJSONError(path: rendered, reason: "not a message field")
            }
            segments = fields.segments(field.number)
            if segments.isEmpty { return nil }
            type = nested
        }
        throw ProtoJSONError(path: "", reason: "an empty field path")
    }

    private static func wireFields(
        _ bytes: [UInt8], _ segments: [Range<Int>], _ type: MessageSchema, path: String
    ) throws(ProtoJSONError) -> WireFields {
        do {
            return try WireFields(bytes, segments: segments, type: type, maxDepth: 64)
        } catch {
            throw ProtoJSONError(path: path, reason: "malformed wire bytes: \(error.reason)")
        }
    }

    private static func integerValue(_ kind: FieldKind, _ value: WireValue, path: String) throws(ProtoJSONError)
        -> Int64
    {
        switch (kind, value) {
        case (.int32, .varint(let raw)), (.enumeration, .varint(let raw)): return Int64(Int32(truncatingIfNeeded: raw))
        case (.int64, .varint(let raw)): return Int64(bitPattern: raw)
        case (.uint32, .varint(let raw)): return Int64(UInt32(truncatingIfNeeded: raw))
        case (.sint32, .varint(let raw)):
            return Int64(Int32(truncatingIfNeeded: WireWriter.unZigZag(UInt64(UInt32(truncatingIfNeeded: raw)))))
        case (.sint64, .varint(let raw)): return WireWriter.unZigZag(raw)
        case (.fixed32, .fixed32(let raw)): return Int64(raw)
        case (.sfixed32, .fixed32(let raw)): return Int64(Int32(bitPattern: raw))
        case (.sfixed64, .fixed64(let raw)): return Int64(bitPattern: raw)
        case (.uint64, .varint(let raw)), (.fixed64, .fixed64(let raw)):
            guard let value = Int64(exactly: raw) else {
                throw ProtoJSONError(path: path, reason: "\(raw) does not fit in Int64")
            }
            return value
        default: throw ProtoJSONError(path: path, reason: "not an integer field (\(kind.protoName))")
        }
    }
}
