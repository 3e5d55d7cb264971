/// The protobuf wire types (the low three bits of a tag).
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// One field value as it is on the wire, before its field's type gives it a meaning.
enum WireValue {
    case varint(UInt64)
    case fixed64(UInt64)
    case fixed32(UInt32)
    /// The payload's position in the buffer being read.
    case lengthDelimited(Range<Int>)
}

/// Why wire bytes could not be read.
struct WireError: Error {
    /// What is wrong, for a `ProtoJSONError`'s reason.
    let reason: String
}

/// Reads the protobuf wire format from a part of a byte array, checking every length against what
/// is left: malformed input is a `WireError`, never a trap.
struct WireReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    /// A reader of `range` of `bytes` (clamped to the array).
    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.end = min(range.upperBound, bytes.count)
        self.offset = max(0, min(range.lowerBound, end))
    }

    /// A reader of all of `bytes`.
    init(_ bytes: [UInt8]) {
        self.init(bytes, range: 0..<bytes.count)
    }

    var isAtEnd: Bool { offset >= end }

    /// A varint of at most ten bytes; bits past the 64th are dropped, as protobuf's parsers do.
    mutating func readVarint() throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end {
            let byte = bytes[offset]
            offset += 1
            if shift < 64 { result |= UInt64(byte & 0x7F) << shift }
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift >= 70 { throw WireError(reason: "a varint is longer than ten bytes") }
        }
        throw WireError(reason: "the bytes end inside a varint")
    }

    /// A field tag: the field number (1 ... 2^29 - 1) and the wire type.
    mutating func readTag() throws(WireError) -> (number: Int32, wireType: WireType) {
        let tag = try readVarint()
        guard tag <= UInt64(UInt32.max), let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw WireError(reason: "invalid field tag \(tag)")
        }
        let number = tag >> 3
        guard number >= 1, number <= 536_870_911 else { throw WireError(reason: "invalid field number \(number)") }
        return (Int32(number), wireType)
    }

    mutating func readFixed32() throws(WireError) -> UInt32 {
        guard end - offset >= 4 else { throw WireError(reason: "the bytes end inside a fixed32 value") }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
        offset += 4
        return value
    }

    mutating func readFixed64() throws(WireError) -> UInt64 {
        guard end - offset >= 8 else { throw WireError(reason: "the bytes end inside a fixed64 value") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += 8
        return value
    }

    /// The range of a length-delimited payload, moving past it.
    mutating func readLengthDelimited() throws(WireError) -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(end - offset) else {
            throw WireError(reason: "a length of \(length) runs past the end of the bytes")
        }
        let start = offset
        offset += Int(length)
        return start..<offset
    }

    /// The value after a tag of `wireType`; nil for a group, which is skipped (groups are proto2's
    /// and unused here; an end-group tag without its start is an error).
    mutating func readValue(_ wireType: WireType, number: Int32, maxDepth: Int) throws(WireError) -> WireValue? {
        switch wireType {
        case .varint: return .varint(try readVarint())
        case .fixed64: return .fixed64(try readFixed64())
        case .fixed32: return .fixed32(try readFixed32())
        case .lengthDelimited: return .lengthDelimited(try readLengthDelimited())
        case .startGroup:
            try skipGroup(number: number, maxDepth: maxDepth)
            return nil
        case .endGroup: throw WireError(reason: "an end-group tag for field \(number) without its start")
        }
    }

    /// Moves past a group's fields up to its end tag; nested groups count toward `maxDepth`.
    private mutating func skipGroup(number: Int32, maxDepth: Int) throws(WireError) {
        var open: [Int32] = [number]
        while let current = open.last {
            let tag = try readTag()
            switch tag.wireType {
            case .varint: _ = try readVarint()
            case .fixed64: _ = try readFixed64()
            case .fixed32: _ = try readFixed32()
            case .lengthDelimited: _ = try readLengthDelimited()
            case .startGroup:
                guard open.count < maxDepth else { throw WireError(reason: "groups nested too deeply") }
                open.append(tag.number)
            case .endGroup:
                guard tag.number == current else { throw WireError(reason: "a group of field \(current) ends wrongly") }
                open.removeLast()
            }
        }
    }
}
