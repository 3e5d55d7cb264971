/// A summary of timing samples, in whatever unit they were taken.
public struct Stats: Codable, Sendable {
    /// The median.
    public let p50: Double
    /// The 99th percentile (nearest rank).
    public let p99: Double
    /// The arithmetic mean.
    public let mean: Double
    /// The largest sample.
    public let max: Double
    /// How many samples.
    public let count: Int

    /// Summarises `samples`, which must not be empty.
    public init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "no samples to summarise")
        let sorted = samples.sorted()
        count = sorted.count
        p50 = count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
        p99 = sorted[min(count - 1, Int((Double(count) * 0.99).rounded(.up)) - 1)]
        mean = sorted.reduce(0, +) / Double(count)
        max = sorted[count - 1]
    }

    /// The summary of `samples`; nil when there are none.
    public static func of(_ samples: [Double]) -> Stats? {
        samples.isEmpty ? nil : Stats(samples)
    }
}
