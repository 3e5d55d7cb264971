public import FoundationEssentials

extension Google_Protobuf_Timestamp {
    /// The timestamp of an instant, to the nanosecond.
    public init(date: Date) {
        let interval = date.timeIntervalSince1970
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
