import Saturating

/// The small text formats gRPC puts in headers: `grpc-timeout`, percent-encoded
/// `grpc-message`, and base64 for `-bin` metadata.
public enum WireFormats {
    // MARK: grpc-timeout

    /// A duration as `grpc-timeout`: at most 8 digits and a unit, rounded up so a peer never
    /// sees a shorter deadline than ours.
    public static func encodeTimeout(_ duration: Duration) -> String {
        // In 128 bits: any Duration's nanoseconds fit, so nothing traps or saturates early.
        let nanos = max(0, duration.attoseconds / 1_000_000_000)
        let units: [(Int128, Character)] = [
            (1, "n"), (1_000, "u"), (1_000_000, "m"), (1_000_000_000, "S"), (60_000_000_000, "M"),
            (3_600_000_000_000, "H"),
        ]
        for (scale, unit) in units {
            let value = (nanos + scale - 1) / scale
            if value < 100_000_000 { return "\(value)\(unit)" }
        }
        return "99999999H"
    }

    /// Parses `grpc-timeout` as PROTOCOL-HTTP2.md defines it: 1–8 ASCII digits followed by
    /// H, M, S, m, u or n; nil otherwise. The largest value (99999999 hours) fits a `Duration`;
    /// servers clamp it to their own maximum before arithmetic on it.
    public static func decodeTimeout(_ text: String) -> Duration? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8.count <= 9 else { return nil }
        var value: Int64 = 0
        for digit in utf8.dropLast() {
            guard digit >= 0x30, digit <= 0x39 else { return nil }
            value = value * 10 + Int64(digit - 0x30)  // at most 8 digits: no overflow
        }
        switch utf8.last! {
        case UInt8(ascii: "H"): return .seconds(value, times: 3600)
        case UInt8(ascii: "M"): return .seconds(value, times: 60)
        case UInt8(ascii: "S"): return .seconds(value)
        case UInt8(ascii: "m"): return .milliseconds(value)
        case UInt8(ascii: "u"): return .microseconds(value)
        case UInt8(ascii: "n"): return .nanoseconds(value)
        default: return nil
        }
    }

    // MARK: grpc-message

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Percent-encodes a status message: bytes outside printable ASCII, and `%`, become `%XX`.
    public static func percentEncode(_ message: String) -> String {
        let utf8 = message.utf8
        if utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E && $0 != 0x25 }) { return message }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count * 3)
        for byte in utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != 0x25 {
                out.append(byte)
            } else {
                out += [0x25, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes a status message and cuts the result to at most `limit` bytes: a longer
    /// one ends in `...` after the last whole escape and character that fit, so it stays valid
    /// percent-encoding of valid UTF-8.
    public static func percentEncode(_ message: String, limit: Int) -> String {
        let encoded = percentEncode(message)
        let utf8 = encoded.utf8
        guard utf8.count > limit else { return encoded }
        let ellipsis = Array("...".utf8)
        let room = max(0, limit - ellipsis.count)
        let bytes = Array(utf8.prefix(room))
        // Walk the kept prefix: never end inside `%XX`, nor inside a percent-encoded character.
        var end = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x25 {
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]) else { break }
                // A lead byte of a multi-byte UTF-8 character: the whole sequence must fit.
                let length: Int =
                    switch high {
                    case 0xC, 0xD: 2
                    case 0xE: 3
                    case 0xF: 4
                    default: 1
                    }
                guard index + 3 * length <= bytes.count else { break }
                index += 3 * length
            } else {
                index += 1
            }
            end = index
        }
        return String(decoding: bytes[..<end] + ellipsis, as: UTF8.self)
    }

    /// Decodes a percent-encoded status message; broken escapes are kept as they are.
    public static func percentDecode(_ text: String) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(0x25) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            if utf8[index] == 0x25, index + 2 < utf8.count,
                let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    // MARK: base64 for -bin metadata

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in base64Alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        // The URL-safe alphabet decodes too; some peers send it.
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Base64 without padding, as gRPC recommends for `-bin` values.
    public static func base64Encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [
                base64Alphabet[Int(chunk >> 18)], base64Alphabet[Int(chunk >> 12 & 63)],
                base64Alphabet[Int(chunk >> 6 & 63)], base64Alphabet[Int(chunk & 63)],
            ]
            index += 3
        }
        if index + 1 == bytes.count {
            let chunk = UInt32(bytes[index]) << 16
            out += [base64Alphabet[Int(chunk >> 18)], base64Alphabet[Int(chunk >> 12 & 63)]]
        } else if index + 2 == bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [
                base64Alphabet[Int(chunk >> 18)], base64Alphabet[Int(chunk >> 12 & 63)],
                base64Alphabet[Int(chunk >> 6 & 63)],
            ]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded or unpadded base64; nil when the text is not base64.
    public static func base64Decode(_ text: String) -> [UInt8]? {
        var bits: UInt32 = 0
        var count = 0
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var padding = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let value = base64Values[Int(byte)]
            guard value != 0xFF else { return nil }
            bits = bits << 6 | UInt32(value)
            count += 1
            if count == 4 {
                out += [UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
                bits = 0
                count = 0
            }
        }
        switch count {
        case 0: break
        case 2: out.append(UInt8(bits >> 4 & 0xFF))
        case 3: out += [UInt8(bits >> 10 & 0xFF), UInt8(bits >> 2 & 0xFF)]
        default: return nil
        }
        return out
    }
}
