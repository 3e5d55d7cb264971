public import FoundationEssentials

extension Google_Protobuf_Timestamp {
    /// The timestamp of an instant, to the nanosecond. Instants outside the range protobuf
    /// allows (years 0001–9999) are clamped to it; NaN becomes the epoch.
    public init(date: Date) {
        let interval = date.timeIntervalSince1970
        // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as google/protobuf/timestamp.proto says.
        guard interval.isFinite, interval >= -62_135_596_800, interval < 253_402_300_800 else {
            let clamped: Int64 = interval.isNaN ? 0 : (interval < 0 ? -62_135_596_800 : 253_402_300_799)
            self.init(seconds: clamped, nanos: 0)
            return
        }
        var seconds = interval.rounded(.down)
        var nanos = ((interval - seconds) * 1e9).rounded()
        if nanos >= 1e9 {
            seconds += 1
            nanos -= 1e9
        }
        self.init(seconds: Int64(seconds), nanos: Int32(nanos))
    }

    /// The instant this timestamp names.
    public var date: Date {
        Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
    }
}

extension Google_Protobuf_Duration {
    /// The protobuf form of a Swift duration, truncated to nanoseconds; seconds and nanos share a sign.
    public init(_ duration: Swift.Duration) {
        var (seconds, attoseconds) = duration.components
        if seconds < 0, attoseconds > 0 {
            seconds += 1
            attoseconds -= 1_000_000_000_000_000_000
        } else if seconds > 0, attoseconds < 0 {
            seconds -= 1
            attoseconds += 1_000_000_000_000_000_000
        }
        self.init(seconds: seconds, nanos: Int32(attoseconds / 1_000_000_000))
    }

    /// The Swift duration this names.
    public var duration: Swift.Duration {
        .seconds(seconds) + .nanoseconds(Int64(nanos))
    }
}
