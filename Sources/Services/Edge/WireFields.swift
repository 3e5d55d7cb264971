/// Reads and edits top-level fields of serialized protobuf messages: what the edge needs to
/// look inside a response (a token to put in a cookie, an event's sequence) without decoding
/// the whole message. Malformed bytes read as "no such field".
struct WireFields {
    /// One field occurrence: its number, wire type and where its value lies.
    struct Field {
        let number: UInt64
        let wireType: UInt8
        /// The whole field, tag included.
        let range: Range<Int>
        /// The value: a varint's bytes, or a length-delimited field's payload.
        let value: Range<Int>
    }

    let bytes: [UInt8]

    /// Every field in order; nil when the bytes are not a well-formed message.
    var fields: [Field]? {
        var fields: [Field] = []
        var index = 0
        while index < bytes.count {
            let start = index
            guard let tag = Self.varint(bytes, &index), tag >> 3 != 0 else { return nil }
            let wireType = UInt8(tag & 7)
            let valueStart: Int
            switch wireType {
            case 0:
                valueStart = index
                guard Self.varint(bytes, &index) != nil else { return nil }
            case 1:
                valueStart = index
                guard bytes.count - index >= 8 else { return nil }
                index += 8
            case 5:
                valueStart = index
                guard bytes.count - index >= 4 else { return nil }
                index += 4
            case 2:
                guard let length = Self.varint(bytes, &index), length <= UInt64(bytes.count - index) else { return nil }
                valueStart = index
                index += Int(length)
            default:
                return nil
            }
            fields.append(Field(number: tag >> 3, wireType: wireType, range: start..<index, value: valueStart..<index))
        }
        return fields
    }

    /// The last occurrence of field `number`.
    func last(_ number: Int) -> Field? {
        fields?.last { $0.number == UInt64(number) }
    }

    /// Field `number` as a length-delimited payload (a string, bytes or a message).
    func payload(_ number: Int) -> [UInt8]? {
        guard let field = last(number), field.wireType == 2 else { return nil }
        return Array(bytes[field.value])
    }

    /// Field `number` as a varint.
    func varint(_ number: Int) -> UInt64? {
        guard let field = last(number), field.wireType == 0 else { return nil }
        var index = field.value.lowerBound
        return Self.varint(bytes, &index)
    }

    /// The message without any occurrence of the fields in `numbers`.
    func removing(_ numbers: Set<Int>) -> [UInt8] {
        guard let fields else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for field in fields where !numbers.contains(Int(field.number)) { out += bytes[field.range] }
        return out
    }

    /// The message with field `number` (a length-delimited one) replaced by `payload`.
    func replacing(_ number: Int, with payload: [UInt8]) -> [UInt8] {
        var out = removing([number])
        Self.appendVarint(UInt64(number) << 3 | 2, to: &out)
        Self.appendVarint(UInt64(payload.count), to: &out)
        out += payload
        return out
    }

    static func varint(_ bytes: [UInt8], _ index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }
}
