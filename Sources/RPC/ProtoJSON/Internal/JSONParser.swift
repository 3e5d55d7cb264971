/// A strict RFC 8259 JSON parser: one value and nothing after it but whitespace, valid UTF-8
/// everywhere, no lone surrogate escapes, no duplicate keys, nesting and numbers bounded by the
/// limits. Errors name the path to where the input went wrong and the byte offset.
struct JSONParser {
    private let bytes: [UInt8]
    private let limits: ProtoJSONLimits
    private var offset = 0
    private var path = FieldPath()

    private init(bytes: [UInt8], limits: ProtoJSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The document in `bytes`.
    static func parse(_ bytes: [UInt8], limits: ProtoJSONLimits) throws(ProtoJSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, limits: limits)
        parser.skipWhitespace()
        guard parser.offset < bytes.count else { throw ProtoJSONError(path: "", reason: "invalid JSON: no value") }
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.syntaxError("unexpected data after the JSON value") }
        return value
    }

    private func syntaxError(_ what: String) -> ProtoJSONError {
        path.error("invalid JSON at byte \(offset): \(what)")
    }

    private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// The value at `offset` inside containers nested `depth` deep.
    private mutating func value(depth: Int) throws(ProtoJSONError) -> JSONValue {
        guard let byte = current else { throw syntaxError("unexpected end of the document") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw syntaxError("unexpected \(Self.describe(byte))")
        }
    }

    private mutating func object(depth: Int) throws(ProtoJSONError) -> JSONValue {
        offset += 1
        skipWhitespace()
        // An empty container is a leaf: it does not count toward the depth.
        if current == UInt8(ascii: "}") {
            offset += 1
            return .object([])
        }
        guard depth <= limits.maxDepth else { throw path.error("nesting deeper than \(limits.maxDepth) levels") }
        var members: [JSONMember] = []
        var keys = Set<[UInt8]>()
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw syntaxError("expected a string as the member name") }
            let key = try string()
            guard keys.insert(key).inserted else { throw path.error("duplicate key \(JSONQuoting.quoted(key))") }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw syntaxError("expected ':' after the member name") }
            offset += 1
            skipWhitespace()
            path.push(.keyBytes(key))
            members.append(JSONMember(key: key, value: try value(depth: depth)))
            path.pop()
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return .object(members)
            default: throw syntaxError("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(ProtoJSONError) -> JSONValue {
        offset += 1
        skipWhitespace()
        // An empty container is a leaf: it does not count toward the depth.
        if current == UInt8(ascii: "]") {
            offset += 1
            return .array([])
        }
        guard depth <= limits.maxDepth else { throw path.error("nesting deeper than \(limits.maxDepth) levels") }
        var elements: [JSONValue] = []
        while true {
            skipWhitespace()
            path.push(.index(elements.count))
            elements.append(try value(depth: depth))
            path.pop()
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                return .array(elements)
            default: throw syntaxError("expected ',' or ']'")
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(ProtoJSONError) {
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected in
            bytes.count - offset >= count && bytes[offset..<offset + count].elementsEqual(expected)
        }
        guard matches else { throw syntaxError("unexpected \(Self.describe(bytes[offset]))") }
        offset += count
    }

    private mutating func number() throws(ProtoJSONError) -> [UInt8] {
        guard let end = NumberText.scan(bytes, from: offset) else { throw syntaxError("invalid number") }
        guard end - offset <= limits.maxNumberLength else {
            throw syntaxError("a number longer than \(limits.maxNumberLength) characters")
        }
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    /// The string at `offset` (its opening quote), unescaped.
    private mutating func string() throws(ProtoJSONError) -> [UInt8] {
        offset += 1
        let start = offset
        var unescaped: [UInt8] = []
        var hasEscapes = false
        var runStart = start
        while true {
            guard let byte = current else { throw syntaxError("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                let result: [UInt8]
                if hasEscapes {
                    unescaped.append(contentsOf: bytes[runStart..<offset])
                    result = unescaped
                } else {
                    result = Array(bytes[start..<offset])
                }
                if let maxBytes = limits.maxStringBytes, result.count > maxBytes {
                    throw syntaxError("a string longer than \(maxBytes) bytes")
                }
                offset += 1
                return result
            case UInt8(ascii: "\\"):
                unescaped.append(contentsOf: bytes[runStart..<offset])
                hasEscapes = true
                try escape(into: &unescaped)
                runStart = offset
            case 0..<0x20: throw syntaxError("a control character in a string must be escaped")
            case 0x20..<0x80: offset += 1
            default:
                guard let next = UTF8Validation.sequenceEnd(bytes, offset, bytes.count) else {
                    throw syntaxError("invalid UTF-8")
                }
                offset = next
            }
        }
    }

    /// The escape sequence at `offset` (its backslash), appended as UTF-8.
    private mutating func escape(into output: inout [UInt8]) throws(ProtoJSONError) {
        offset += 1
        guard let byte = current else { throw syntaxError("unterminated string") }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hexUnit()
            var scalarValue = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit) {
                guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"),
                    bytes[offset + 1] == UInt8(ascii: "u")
                else { throw syntaxError("a lone surrogate escape") }
                offset += 2
                let low = try hexUnit()
                guard (0xDC00...0xDFFF).contains(low) else { throw syntaxError("a lone surrogate escape") }
                scalarValue = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw syntaxError("a lone surrogate escape")
            }
            guard let scalar = Unicode.Scalar(scalarValue) else { throw syntaxError("invalid escape") }
            UTF8.encode(scalar) { output.append($0) }
        default:
            offset -= 2
            throw syntaxError("invalid escape sequence")
        }
    }

    /// Four hex digits after `\u`.
    private mutating func hexUnit() throws(ProtoJSONError) -> UInt16 {
        guard bytes.count - offset >= 4 else { throw syntaxError("a \\u escape needs four hex digits") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw syntaxError("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt16(digit)
            offset += 1
        }
        return value
    }

    /// `'x'` for printable ASCII, `byte 0xFF` otherwise.
    private static func describe(_ byte: UInt8) -> String {
        if byte > 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count < 2 ? "0" + hex : hex)
    }
}
