/// Overflow-safe conversions of durations to whole units, for numbers that come from outside.
///
/// A client may send any duration the wire format allows (a `grpc-timeout` of 99999999 hours,
/// a run timeout of `Int64.max` seconds); converting one with a raw `*` traps the process.
/// These conversions saturate at `Int64.min` / `Int64.max` instead.
extension Duration {
    /// Whole nanoseconds (truncated toward zero), saturating.
    public var saturatingNanoseconds: Int64 { Saturating.int64(attoseconds / 1_000_000_000) }

    /// Whole microseconds (truncated toward zero), saturating.
    public var saturatingMicroseconds: Int64 { Saturating.int64(attoseconds / 1_000_000_000_000) }

    /// Whole milliseconds (truncated toward zero), saturating.
    public var saturatingMilliseconds: Int64 { Saturating.int64(attoseconds / 1_000_000_000_000_000) }

    /// Whole seconds (truncated toward zero), saturating.
    public var saturatingSeconds: Int64 { Saturating.int64(attoseconds / 1_000_000_000_000_000_000) }

    /// The duration clamped into `range`.
    public func clamped(to range: ClosedRange<Duration>) -> Duration {
        min(max(self, range.lowerBound), range.upperBound)
    }

    /// A duration of `value` × `unitSeconds` seconds, saturating at the longest `Duration`
    /// (about 5 × 10^19 years) instead of trapping.
    public static func seconds(_ value: Int64, times unitSeconds: Int64) -> Duration {
        let (seconds, first) = Int128(value).multipliedReportingOverflow(by: Int128(unitSeconds))
        let (attoseconds, second) = seconds.multipliedReportingOverflow(by: 1_000_000_000_000_000_000)
        if first || second {
            return Duration(attoseconds: (value < 0) != (unitSeconds < 0) ? .min : .max)
        }
        return Duration(attoseconds: attoseconds)
    }
}

/// Saturating integer arithmetic for sizes, counts and offsets that come from outside.
public enum Saturating {
    /// `value` narrowed to Int64, clamped to its range.
    @inlinable
    public static func int64(_ value: Int128) -> Int64 {
        if value > Int128(Int64.max) { return .max }
        if value < Int128(Int64.min) { return .min }
        return Int64(value)
    }

    /// `a * b`, clamped to Int64's range.
    @inlinable
    public static func multiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if !overflow { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }

    /// `a + b`, clamped to Int64's range.
    @inlinable
    public static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if !overflow { return sum }
        return b > 0 ? .max : .min
    }

    /// `a * b` for sizes and counts, clamped to Int's range.
    @inlinable
    public static func multiply(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if !overflow { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }

    /// `a + b` for sizes and counts, clamped to Int's range.
    @inlinable
    public static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if !overflow { return sum }
        return b > 0 ? .max : .min
    }
}
