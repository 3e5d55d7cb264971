/// `google.protobuf.Duration` as text: `"1.5s"`, `"-0.000000001s"`; written with 0, 3, 6 or 9
/// fractional digits; at most 315,576,000,000 seconds (10,000 years) either way.
enum DurationText {
    static let maxSeconds: Int64 = 315_576_000_000

    /// The seconds and nanoseconds (both of the text's sign) `text` denotes, or why it cannot be read.
    static func parse(_ text: [UInt8]) -> Result<(seconds: Int64, nanos: Int32), WireError> {
        var reader = DigitReader(text)
        let negative = reader.skip("-")
        var seconds: Int64 = 0
        var digitCount = 0
        while let digit = reader.digit() {
            digitCount += 1
            // Twelve digits hold the largest duration; more are out of range (leading zeros aside).
            guard digitCount <= 24 else { return .failure(WireError(reason: "the duration is out of range")) }
            seconds = seconds * 10 + Int64(digit)
            guard seconds <= maxSeconds else { return .failure(WireError(reason: "the duration is out of range")) }
        }
        guard digitCount > 0 else { return .failure(WireError(reason: "expected a duration like \"1.5s\"")) }
        var nanos = 0
        if reader.skip(".") {
            guard let fraction = reader.fraction() else {
                return .failure(WireError(reason: "expected 1 to 9 fractional digits"))
            }
            nanos = fraction
        }
        guard reader.skip("s"), reader.isAtEnd else {
            return .failure(WireError(reason: "expected a duration like \"1.5s\""))
        }
        return .success(negative ? (-seconds, -Int32(nanos)) : (seconds, Int32(nanos)))
    }

    /// The text, or nil when the value is out of range or its seconds and nanos differ in sign.
    static func format(seconds: Int64, nanos: Int32) -> String? {
        guard seconds >= -maxSeconds, seconds <= maxSeconds, nanos > -1_000_000_000, nanos < 1_000_000_000,
            !(seconds > 0 && nanos < 0), !(seconds < 0 && nanos > 0)
        else { return nil }
        let negative = seconds < 0 || nanos < 0
        return (negative ? "-" : "") + String(seconds.magnitude) + TimestampText.fraction(Int(nanos.magnitude)) + "s"
    }
}
