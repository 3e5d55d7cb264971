/// `google.protobuf.Timestamp` as RFC 3339 text: read with any UTC offset, written in UTC with 0,
/// 3, 6 or 9 fractional digits; 0001-01-01T00:00:00Z through 9999-12-31T23:59:59.999999999Z.
enum TimestampText {
    static let minSeconds: Int64 = -62_135_596_800
    static let maxSeconds: Int64 = 253_402_300_799

    /// The seconds and nanoseconds `text` denotes, or why it cannot be read.
    static func parse(_ text: [UInt8]) -> Result<(seconds: Int64, nanos: Int32), WireError> {
        var reader = DigitReader(text)
        guard let year = reader.digits(4), reader.skip("-"), let month = reader.digits(2), reader.skip("-"),
            let day = reader.digits(2), reader.skip("T"), let hour = reader.digits(2), reader.skip(":"),
            let minute = reader.digits(2), reader.skip(":"), let second = reader.digits(2)
        else { return .failure(WireError(reason: "expected an RFC 3339 timestamp like \"2026-12-07T14:25:40Z\"")) }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23,
            minute <= 59, second <= 59
        else { return .failure(WireError(reason: "not a valid date and time")) }
        var nanos = 0
        if reader.skip(".") {
            guard let fraction = reader.fraction() else {
                return .failure(WireError(reason: "expected 1 to 9 fractional digits"))
            }
            nanos = fraction
        }
        var offsetSeconds = 0
        if reader.skip("Z") {
            offsetSeconds = 0
        } else if let sign = reader.sign(), let offsetHour = reader.digits(2), reader.skip(":"),
            let offsetMinute = reader.digits(2)
        {
            guard offsetHour <= 23, offsetMinute <= 59 else {
                return .failure(WireError(reason: "not a valid UTC offset"))
            }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        } else {
            return .failure(WireError(reason: "expected \"Z\" or a UTC offset like \"+02:00\""))
        }
        guard reader.isAtEnd else { return .failure(WireError(reason: "unexpected text after the timestamp")) }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        guard seconds >= minSeconds, seconds <= maxSeconds else {
            return .failure(WireError(reason: "the timestamp is outside 0001-01-01 to 9999-12-31"))
        }
        return .success((seconds, Int32(nanos)))
    }

    /// The RFC 3339 text in UTC, or nil when the value is outside the range or nanos outside 0..<10^9.
    static func format(seconds: Int64, nanos: Int32) -> String? {
        guard seconds >= minSeconds, seconds <= maxSeconds, nanos >= 0, nanos <= 999_999_999 else { return nil }
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (year, month, day) = civilFromDays(days)
        let nanos = Int(nanos)
        let fractionDigits = nanos == 0 ? 0 : nanos % 1_000_000 == 0 ? 3 : nanos % 1000 == 0 ? 6 : 9
        // Written digit by digit into the string's storage: this runs for every timestamp of
        // every response the edge transcodes.
        return String(unsafeUninitializedCapacity: 30) { buffer in
            var index = 0
            func digits(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                var rest = value
                for _ in 0..<width {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest / divisor % 10)
                    index += 1
                    rest %= divisor
                    divisor /= 10
                }
            }
            func character(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            digits(year, 4)
            character(UInt8(ascii: "-"))
            digits(month, 2)
            character(UInt8(ascii: "-"))
            digits(day, 2)
            character(UInt8(ascii: "T"))
            digits(secondOfDay / 3600, 2)
            character(UInt8(ascii: ":"))
            digits(secondOfDay / 60 % 60, 2)
            character(UInt8(ascii: ":"))
            digits(secondOfDay % 60, 2)
            if fractionDigits > 0 {
                character(UInt8(ascii: "."))
                let scaled = fractionDigits == 3 ? nanos / 1_000_000 : fractionDigits == 6 ? nanos / 1000 : nanos
                digits(scaled, fractionDigits)
            }
            character(UInt8(ascii: "Z"))
            return index
        }
    }

    /// `.123`, `.123456` or `.123456789` (the fewest of these that is exact), or nothing for 0.
    static func fraction(_ nanos: Int) -> String {
        if nanos == 0 { return "" }
        if nanos % 1_000_000 == 0 { return "." + padded(nanos / 1_000_000, 3) }
        if nanos % 1000 == 0 { return "." + padded(nanos / 1000, 6) }
        return "." + padded(nanos, 9)
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count < width ? String(repeating: "0", count: width - text.count) + text : text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    private static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Reads fixed-width decimal fields from timestamp and duration text.
struct DigitReader {
    private let text: [UInt8]
    private var index = 0

    init(_ text: [UInt8]) { self.text = text }

    var isAtEnd: Bool { index >= text.count }

    /// Exactly `count` digits as a number.
    mutating func digits(_ count: Int) -> Int? {
        guard text.count - index >= count else { return nil }
        var value = 0
        for _ in 0..<count {
            guard let digit = digit() else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// 1 to 9 digits after a decimal point, as nanoseconds.
    mutating func fraction() -> Int? {
        var value = 0
        var count = 0
        while let digit = digit() {
            count += 1
            guard count <= 9 else { return nil }
            value = value * 10 + digit
        }
        guard count >= 1 else { return nil }
        for _ in count..<9 { value *= 10 }
        return value
    }

    /// `+` as 1, `-` as -1.
    mutating func sign() -> Int? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }

    /// Moves past `character` if it is next.
    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < text.count, text[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// The next character as a digit, moving past it, or nil.
    mutating func digit() -> Int? {
        guard index < text.count, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") else {
            return nil
        }
        defer { index += 1 }
        return Int(text[index] - UInt8(ascii: "0"))
    }
}
