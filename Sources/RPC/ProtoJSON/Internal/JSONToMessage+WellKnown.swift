/// The well-known types' JSON forms, read into their messages by field number: Timestamp
/// (1 seconds, 2 nanos), Duration (the same), Struct (1 fields), Value (1 null, 2 number,
/// 3 string, 4 bool, 5 struct, 6 list), ListValue (1 values), FieldMask (1 paths), wrappers (1 value).
extension JSONToMessage {
    mutating func wellKnownMessage(_ json: JSONValue, _ wellKnown: WellKnownType, type: MessageSchema, depth: Int)
        throws(ProtoJSONError) -> MessageValue
    {
        switch wellKnown {
        case .timestamp, .duration:
            guard case .string(let text) = json else {
                let example = wellKnown == .timestamp ? "\"2026-12-07T14:25:40Z\"" : "\"1.5s\""
                throw path.error("expected a string like \(example) (\(type.fullName)), got \(json.kindDescription)")
            }
            let parsed = wellKnown == .timestamp ? TimestampText.parse(text) : DurationText.parse(text)
            switch parsed {
            case .success(let value):
                return MessageValue(fields: [
                    1: .single(.signed(value.seconds, kind: .int64)),
                    2: .single(.signed(Int64(value.nanos), kind: .int32)),
                ])
            case .failure(let error):
                throw path.error("\(error.reason), got \(JSONQuoting.quoted(text))")
            }
        case .structure:
            guard case .object(let members) = json else {
                throw path.error("expected an object (google.protobuf.Struct), got \(json.kindDescription)")
            }
            return try structure(members, depth: depth)
        case .value:
            return try value(json, depth: depth)
        case .listValue:
            guard case .array(let items) = json else {
                throw path.error("expected an array (google.protobuf.ListValue), got \(json.kindDescription)")
            }
            return try list(items, depth: depth)
        case .fieldMask:
            guard case .string(let text) = json else {
                throw path.error("expected a string (google.protobuf.FieldMask), got \(json.kindDescription)")
            }
            guard let paths = FieldMaskText.parse(text) else {
                throw path.error("expected lowerCamelCase paths separated by commas, got \(JSONQuoting.quoted(text))")
            }
            return MessageValue(fields: [1: .list(paths.map { .bytes($0) })])
        case .wrapper:
            guard let field = type.field(number: 1) else { throw path.error("malformed wrapper \(type.fullName)") }
            return MessageValue(fields: [1: .single(try element(json, kind: field.kind, depth: depth))])
        case .any:
            throw path.error("google.protobuf.Any is not supported")
        }
    }

    /// A Struct at nesting `depth` (the parser has bounded the JSON's depth already).
    private mutating func structure(_ members: [JSONMember], depth: Int) throws(ProtoJSONError) -> MessageValue {
        var entries: [MapKey: Element] = [:]
        for member in members {
            path.push(.keyBytes(member.key))
            entries[.string(member.key)] = .message(try value(member.value, depth: depth + 1))
            path.pop()
        }
        return MessageValue(fields: [1: .map(entries)])
    }

    private mutating func list(_ items: [JSONValue], depth: Int) throws(ProtoJSONError) -> MessageValue {
        var elements: [Element] = []
        elements.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            path.push(.index(index))
            elements.append(.message(try value(item, depth: depth + 1)))
            path.pop()
        }
        return MessageValue(fields: [1: .list(elements)])
    }

    /// A `google.protobuf.Value` holding any JSON value; a number must be finite.
    private mutating func value(_ json: JSONValue, depth: Int) throws(ProtoJSONError) -> MessageValue {
        switch json {
        case .null: return MessageValue(fields: [1: .single(.varint(0))])
        case .number(let text):
            guard let number = Double(String(decoding: text, as: UTF8.self)), number.isFinite else {
                throw path.error("\(String(decoding: text, as: UTF8.self)) is out of range for a JSON number")
            }
            return MessageValue(fields: [2: .single(.fixed64(number.bitPattern))])
        case .string(let text): return MessageValue(fields: [3: .single(.bytes(text))])
        case .bool(let flag): return MessageValue(fields: [4: .single(.varint(flag ? 1 : 0))])
        case .object(let members):
            return MessageValue(fields: [5: .single(.message(try structure(members, depth: depth)))])
        case .array(let items): return MessageValue(fields: [6: .single(.message(try list(items, depth: depth)))])
        }
    }
}
