/// Base64 for bytes fields: written in the standard alphabet with padding; read in the standard
/// or the URL-safe alphabet, padding optional.
enum Base64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The standard encoding of `source[range]`, padded.
    static func encode(_ source: [UInt8], _ range: Range<Int>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((range.count + 2) / 3 * 4)
        var index = range.lowerBound
        while index + 3 <= range.upperBound {
            let value = UInt32(source[index]) << 16 | UInt32(source[index + 1]) << 8 | UInt32(source[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int((value >> UInt32(shift)) & 0x3F)]) }
            index += 3
        }
        let rest = range.upperBound - index
        if rest == 1 {
            let value = UInt32(source[index]) << 16
            output += [
                alphabet[Int(value >> 18)], alphabet[Int((value >> 12) & 0x3F)], UInt8(ascii: "="), UInt8(ascii: "="),
            ]
        } else if rest == 2 {
            let value = UInt32(source[index]) << 16 | UInt32(source[index + 1]) << 8
            output += [
                alphabet[Int(value >> 18)], alphabet[Int((value >> 12) & 0x3F)], alphabet[Int((value >> 6) & 0x3F)],
                UInt8(ascii: "="),
            ]
        }
        return output
    }

    /// The bytes `text` encodes, or nil when it is not base64 (a character outside both alphabets,
    /// a misplaced or wrong amount of padding, a length no encoding has).
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var end = text.count
        var padding = 0
        while end > 0, text[end - 1] == UInt8(ascii: "="), padding < 2 {
            end -= 1
            padding += 1
        }
        let remainder = end % 4
        guard remainder != 1 else { return nil }
        if padding > 0 {
            guard text.count % 4 == 0, padding == 4 - remainder else { return nil }
        }
        var output: [UInt8] = []
        output.reserveCapacity(end / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        for index in 0..<end {
            guard let value = sextet(text[index]) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
