/// Percent-decoding of URL paths and query strings, refusing what is not valid UTF-8.
public enum PercentDecoding {
    /// `text` with `%XX` escapes decoded (and `+` as a space when `plusAsSpace`, as in a query
    /// string); nil when an escape is malformed or the result is not valid UTF-8. With
    /// `keepingSlashes`, `%2F` stays encoded (a multi-segment path capture).
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool = false, keepingSlashes: Bool = false)
        -> String?
    {
        if !text.utf8.contains(where: { $0 == 0x25 || (plusAsSpace && $0 == 0x2B) }) { return String(text) }
        let utf8 = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == 0x25 {
                guard index + 2 < utf8.count, let high = hex(utf8[index + 1]), let low = hex(utf8[index + 2]) else {
                    return nil
                }
                let decoded = high << 4 | low
                if keepingSlashes && decoded == 0x2F {
                    bytes += utf8[index...(index + 2)]
                } else {
                    bytes.append(decoded)
                }
                index += 3
            } else {
                bytes.append(plusAsSpace && byte == 0x2B ? 0x20 : byte)
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// The pairs of a query string (`a=1&b=x+y`), decoded, in order; nil when one is malformed.
    public static func queryPairs(_ query: some StringProtocol) -> [(key: String, value: String)]? {
        var pairs: [(key: String, value: String)] = []
        for piece in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = decode(parts[0], plusAsSpace: true), !key.isEmpty else { return nil }
            let value = parts.count == 2 ? decode(parts[1], plusAsSpace: true) : ""
            guard let value else { return nil }
            pairs.append((key, value))
        }
        return pairs
    }
}

extension Substring {
    /// Whether this raw path segment is `literal`: byte for byte when it holds no escape,
    /// else once decoded.
    func matchesLiteral(_ literal: String) -> Bool {
        if !utf8.contains(0x25) { return utf8.elementsEqual(literal.utf8) }
        return PercentDecoding.decode(self) == literal
    }
}
