/// JSON number literals: their grammar, and the exact integer one denotes, computed without
/// overflow whatever the literal.
enum NumberText {
    /// An exact integer as a sign and a magnitude, or why there is none.
    enum Integer {
        case value(Int128)
        /// The literal has a fraction (`1.5`, `1e-3`).
        case notInteger
        /// The magnitude is 2^64 or more.
        case outOfRange
    }

    /// The end of the number literal that starts at `start`, or nil when none does; the literal
    /// is RFC 8259's: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func scan(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        func isDigit(_ position: Int) -> Bool {
            position < bytes.count && bytes[position] >= UInt8(ascii: "0") && bytes[position] <= UInt8(ascii: "9")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { return nil }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard isDigit(index) else { return nil }
            while isDigit(index) { index += 1 }
        }
        return index
    }

    /// Whether all of `text` is one number literal.
    static func isNumber(_ text: [UInt8]) -> Bool { scan(text, from: 0) == text.count }

    /// Whether `text` is `-?[0-9]+` (a decimal integer as a path or query parameter gives it).
    static func isDecimalInteger(_ text: [UInt8]) -> Bool {
        let digits = text.first == UInt8(ascii: "-") ? text.dropFirst() : text[...]
        return !digits.isEmpty && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The exact integer `text` denotes: `1.0` and `1e2` are integers, `1.5` is not. `text` is a
    /// number literal (`isNumber`) or a decimal integer with leading zeros.
    static func integer(_ text: [UInt8]) -> Integer {
        var index = 0
        let negative = text.first == UInt8(ascii: "-")
        if negative { index += 1 }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var inFraction = false
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                // Leading zeros carry no value; skipping them keeps `digits` short.
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte - UInt8(ascii: "0")) }
                if inFraction { fractionDigits += 1 }
            } else {
                break
            }
            index += 1
        }
        var exponent = 0
        if index < text.count, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < text.count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                exponentNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            while index < text.count, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
                // Saturates: any exponent past a million is as good as infinite here.
                exponent = min(exponent * 10 + Int(text[index] - UInt8(ascii: "0")), 1_000_000)
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        // Zero, whatever its exponent.
        guard !digits.isEmpty, digits.contains(where: { $0 != 0 }) else { return .value(0) }
        var trailingZeros = 0
        while let last = digits.last, last == 0 {
            digits.removeLast()
            trailingZeros += 1
        }
        // The value is digits × 10^scale.
        let scale = exponent - fractionDigits + trailingZeros
        guard scale >= 0 else { return .notInteger }
        guard digits.count + scale <= 20 else { return .outOfRange }
        var magnitude: UInt64 = 0
        for digit in digits {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return .outOfRange }
            magnitude = sum
        }
        for _ in 0..<scale {
            let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow else { return .outOfRange }
            magnitude = times10
        }
        return .value(negative ? -Int128(magnitude) : Int128(magnitude))
    }
}
