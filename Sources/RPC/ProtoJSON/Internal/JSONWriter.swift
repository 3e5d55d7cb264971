/// Compact JSON text, appended to a byte array.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    /// Makes room for `count` bytes of output.
    mutating func reserveCapacity(_ count: Int) { bytes.reserveCapacity(count) }

    /// ASCII text as is (punctuation, literals, numbers).
    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    /// Bytes as they are (a precomputed key).
    mutating func raw(_ text: [UInt8]) { bytes.append(contentsOf: text) }

    /// A string literal of valid UTF-8: `"` and `\` escaped, control characters as `\n` or `\u00XX`.
    mutating func string(_ utf8: [UInt8]) { string(utf8, 0..<utf8.count) }

    /// A string literal of `source[range]`, which is valid UTF-8.
    mutating func string(_ source: [UInt8], _ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= source.count, "a string outside its bytes")
        bytes.append(UInt8(ascii: "\""))
        source.withUnsafeBufferPointer { source in
            escape(source, range)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `source[range]` with the characters JSON strings cannot hold as they are escaped.
    private mutating func escape(_ source: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        var runStart = range.lowerBound
        for index in range {
            let byte = source[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            default:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<range.upperBound]))
    }

    /// A string literal of a Swift string.
    mutating func string(_ text: String) { string(Array(text.utf8)) }

    /// A JSON number.
    mutating func number(_ value: some BinaryInteger) { raw(String(value)) }

    /// A decimal integer in a string, as proto3 JSON writes 64-bit integers.
    mutating func quotedNumber(_ value: some BinaryInteger) {
        bytes.append(UInt8(ascii: "\""))
        raw(String(value))
        bytes.append(UInt8(ascii: "\""))
    }

    /// A double: the shortest text that reads back to the same value; `"NaN"`, `"Infinity"` and
    /// `"-Infinity"` as strings.
    mutating func number(_ value: Double) {
        if value.isNaN {
            raw("\"NaN\"")
        } else if value.isInfinite {
            raw(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        } else {
            raw(Self.trimmed(value.description))
        }
    }

    /// A float, as the shortest text that reads back to the same float.
    mutating func number(_ value: Float) {
        if value.isNaN {
            raw("\"NaN\"")
        } else if value.isInfinite {
            raw(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        } else {
            raw(Self.trimmed(value.description))
        }
    }

    /// `100.0` → `100`: Swift's description without the fraction of an integral value, except
    /// `-0.0`, which many JSON readers would take for the integer 0 without it.
    private static func trimmed(_ text: String) -> String {
        text.hasSuffix(".0") && text != "-0.0" ? String(text.dropLast(2)) : text
    }
}
