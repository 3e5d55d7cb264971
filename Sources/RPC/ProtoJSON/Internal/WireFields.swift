/// One message's known fields as they are on the wire: every occurrence of each, in order, and
/// which came last (a oneof's last-set member wins). Several segments read as one message, which
/// is how protobuf merges a singular message field given more than once.
struct WireFields {
    private(set) var occurrences: [Int32: [WireValue]] = [:]
    private(set) var lastPosition: [Int32: Int] = [:]

    /// Reads `segments` of `bytes` as a message of `type`; unknown fields are skipped, a known
    /// field with the wrong wire type is an error (a packable repeated field may come packed or not).
    init(_ bytes: [UInt8], segments: [Range<Int>], type: MessageSchema, maxDepth: Int) throws(WireError) {
        var position = 0
        for segment in segments {
            var reader = WireReader(bytes, range: segment)
            while !reader.isAtEnd {
                let (number, wireType) = try reader.readTag()
                guard let field = type.field(number: number) else {
                    _ = try reader.readValue(wireType, number: number, maxDepth: maxDepth)
                    continue
                }
                let expected = field.kind.wireType
                guard
                    wireType == expected || (wireType == .lengthDelimited && field.isRepeated && field.kind.isPackable)
                else {
                    throw WireError(
                        reason: "field \(field.name) (\(field.kind.protoName)) came with wire type \(wireType.rawValue)"
                    )
                }
                guard let value = try reader.readValue(wireType, number: number, maxDepth: maxDepth) else { continue }
                occurrences[number, default: []].append(value)
                lastPosition[number] = position
                position += 1
            }
        }
    }

    /// The numbers of the fields that are set in `type`'s oneofs: for each oneof, its member seen last.
    func oneofWinners(_ type: MessageSchema) -> [Int: Int32] {
        var winners: [Int: (number: Int32, position: Int)] = [:]
        for field in type.fields {
            guard let oneof = field.oneofIndex, let position = lastPosition[field.number] else { continue }
            if let current = winners[oneof], current.position > position { continue }
            winners[oneof] = (field.number, position)
        }
        return winners.mapValues(\.number)
    }

    /// The payloads of a message field's occurrences, to be read as one merged message.
    func segments(_ number: Int32) -> [Range<Int>] {
        (occurrences[number] ?? []).compactMap { value in
            if case .lengthDelimited(let range) = value { return range }
            return nil
        }
    }
}
