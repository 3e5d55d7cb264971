/// The well-known types written in their JSON forms (see `JSONToMessage+WellKnown` for the field
/// numbers).
extension WireToJSON {
    mutating func wellKnownMessage(
        _ wellKnown: WellKnownType, _ type: MessageSchema, _ segments: [Range<Int>], depth: Int
    ) throws(ProtoJSONError) {
        let fields = try wireFields(segments, type)
        switch wellKnown {
        case .timestamp, .duration:
            let seconds = Self.lastVarint(fields, 1).map { Int64(bitPattern: $0) } ?? 0
            let nanos = Self.lastVarint(fields, 2).map { Int32(truncatingIfNeeded: $0) } ?? 0
            if wellKnown == .timestamp {
                guard let text = TimestampText.format(seconds: seconds, nanos: nanos) else {
                    throw path.error("the timestamp (\(seconds) s, \(nanos) ns) is outside 0001-01-01 to 9999-12-31")
                }
                out.string(text)
            } else {
                guard let text = DurationText.format(seconds: seconds, nanos: nanos) else {
                    throw path.error("the duration (\(seconds) s, \(nanos) ns) is out of range")
                }
                out.string(text)
            }
        case .structure:
            guard let field = type.field(number: 1) else { throw path.error("malformed \(type.fullName)") }
            try fieldValue(field, fields.occurrences(1), fields: fields, depth: depth - 1)
        case .listValue:
            guard let field = type.field(number: 1) else { throw path.error("malformed \(type.fullName)") }
            try fieldValue(field, fields.occurrences(1), fields: fields, depth: depth - 1)
        case .value:
            try value(fields, depth: depth)
        case .fieldMask:
            var paths: [UInt8] = []
            for (index, value) in (fields.occurrences(1)).enumerated() {
                guard case .lengthDelimited(let range) = value, UTF8Validation.isValid(bytes, range),
                    let camel = FieldMaskText.camelCase(Array(bytes[range]))
                else { throw path.error("a FieldMask path that has no lowerCamelCase form") }
                if index > 0 { paths.append(UInt8(ascii: ",")) }
                paths += camel
            }
            out.string(paths)
        case .wrapper:
            guard let field = type.field(number: 1) else { throw path.error("malformed \(type.fullName)") }
            try scalar(field.kind, fields.occurrences(1).last ?? Self.defaultValue(field.kind))
        case .any:
            throw path.error("google.protobuf.Any is not supported")
        }
    }

    /// A `google.protobuf.Value`: the kind set last; none set reads as null.
    private mutating func value(_ fields: WireFields, depth: Int) throws(ProtoJSONError) {
        var kind: Int32 = 0
        var latest = -1
        for number: Int32 in 1...6 {
            if let position = fields.lastPosition(number), position > latest {
                kind = number
                latest = position
            }
        }
        let last = fields.occurrences(kind).last
        switch (kind, last) {
        case (2, .fixed64(let raw)):
            let number = Double(bitPattern: raw)
            guard number.isFinite else { throw path.error("a Value's number cannot be NaN or infinite in JSON") }
            out.number(number)
        case (3, .lengthDelimited(let range)):
            guard UTF8Validation.isValid(bytes, range) else { throw path.error("a string is not valid UTF-8") }
            out.string(bytes, range)
        case (4, .varint(let raw)): out.raw(raw != 0 ? "true" : "false")
        case (5, _): try message(messageType("google.protobuf.Struct"), fields.segments(5), depth: depth)
        case (6, _): try message(messageType("google.protobuf.ListValue"), fields.segments(6), depth: depth)
        default: out.raw("null")
        }
    }

    private static func lastVarint(_ fields: WireFields, _ number: Int32) -> UInt64? {
        if case .varint(let value) = fields.occurrences(number).last { return value }
        return nil
    }
}
