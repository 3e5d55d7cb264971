/// UTF-8 validation by the Unicode standard's table of well-formed byte sequences (no overlong
/// forms, no surrogates, nothing past U+10FFFF).
enum UTF8Validation {
    /// Whether `bytes[range]` is well-formed UTF-8.
    static func isValid(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        var index = max(0, range.lowerBound)
        let end = min(range.upperBound, bytes.count)
        while index < end {
            if bytes[index] < 0x80 {
                index += 1
                continue
            }
            guard let next = sequenceEnd(bytes, index, end) else { return false }
            index = next
        }
        return true
    }

    /// The end of the well-formed multi-byte sequence that starts at `index`, or nil.
    static func sequenceEnd(_ bytes: [UInt8], _ index: Int, _ end: Int) -> Int? {
        let first = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch first {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return nil
        }
        guard end - index >= length else { return nil }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { return nil }
        for offset in 2..<max(2, length) {
            let byte = bytes[index + offset]
            guard byte >= 0x80, byte <= 0xBF else { return nil }
        }
        return index + length
    }
}
