/// One message's known fields as they are on the wire: every occurrence of each, in order, and
/// which came last (a oneof's last-set member wins). Several segments read as one message, which
/// is how protobuf merges a singular message field given more than once. Kept by the fields'
/// positions in the message's schema (arrays, not dictionaries: this runs for every message
/// transcoded).
struct WireFields {
    private let index: FieldNumberIndex
    /// Each field's occurrences, by its position in `MessageSchema.fields`.
    private var values: [[WireValue]]
    /// When each field last occurred (its occurrence's order among all), -1 never.
    private var lastSeen: [Int]

    /// Reads `segments` of `bytes` as a message of `type`; unknown fields are skipped, a known
    /// field with the wrong wire type is an error (a packable repeated field may come packed or not).
    init(_ bytes: [UInt8], segments: [Range<Int>], type: MessageSchema, maxDepth: Int) throws(WireError) {
        index = type.numberIndex
        values = Array(repeating: [], count: type.fields.count)
        lastSeen = Array(repeating: -1, count: type.fields.count)
        var position = 0
        for segment in segments {
            var reader = WireReader(bytes, range: segment)
            while !reader.isAtEnd {
                let (number, wireType) = try reader.readTag()
                guard let fieldPosition = index.position(of: number) else {
                    _ = try reader.readValue(wireType, number: number, maxDepth: maxDepth)
                    continue
                }
                let field = type.fields[fieldPosition]
                let expected = field.kind.wireType
                guard
                    wireType == expected || (wireType == .lengthDelimited && field.isRepeated && field.kind.isPackable)
                else {
                    throw WireError(
                        reason: "field \(field.name) (\(field.kind.protoName)) came with wire type \(wireType.rawValue)"
                    )
                }
                guard let value = try reader.readValue(wireType, number: number, maxDepth: maxDepth) else { continue }
                values[fieldPosition].append(value)
                lastSeen[fieldPosition] = position
                position += 1
            }
        }
    }

    /// The occurrences of field `number`, in order; empty when it is not there.
    func occurrences(_ number: Int32) -> [WireValue] {
        index.position(of: number).map { values[$0] } ?? []
    }

    /// The occurrences of the field at `position` in the message's `fields`.
    func occurrences(atPosition position: Int) -> [WireValue] {
        values[position]
    }

    /// When field `number` last occurred (its order among all the occurrences); nil never.
    func lastPosition(_ number: Int32) -> Int? {
        guard let position = index.position(of: number), lastSeen[position] >= 0 else { return nil }
        return lastSeen[position]
    }

    /// The numbers of the fields that are set in `type`'s oneofs, by oneof index: for each
    /// oneof, its member seen last (nil: none set).
    func oneofWinners(_ type: MessageSchema) -> [Int32?] {
        guard !type.oneofNames.isEmpty else { return [] }
        var winners: [(number: Int32, position: Int)?] = Array(repeating: nil, count: type.oneofNames.count)
        for (fieldPosition, field) in type.fields.enumerated() {
            guard let oneof = field.oneofIndex, oneof < winners.count, lastSeen[fieldPosition] >= 0 else { continue }
            let position = lastSeen[fieldPosition]
            if let current = winners[oneof], current.position > position { continue }
            winners[oneof] = (field.number, position)
        }
        return winners.map { $0?.number }
    }

    /// The payloads of a message field's occurrences, to be read as one merged message.
    func segments(_ number: Int32) -> [Range<Int>] {
        occurrences(number).compactMap { value in
            if case .lengthDelimited(let range) = value { return range }
            return nil
        }
    }
}
