import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Prints `message` to standard error and exits with status 2.
func fail(_ message: String) -> Never {
    let line = Array("FlowBenchmark: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// Microseconds in `duration`.
func microseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
}

/// A summary of timing samples.
struct Stats {
    /// The median.
    let p50: Double
    /// The 99th percentile (nearest rank).
    let p99: Double
    /// The arithmetic mean.
    let mean: Double
    /// How many samples.
    let count: Int

    /// Summarises `samples`, which must not be empty.
    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        p50 = count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
        p99 = sorted[min(count - 1, Int((Double(count) * 0.99).rounded(.up)) - 1)]
        mean = sorted.reduce(0, +) / Double(count)
    }
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

/// Prints one result line for ../flow-run (`metric NAME VALUE`) after a readable one.
func report(_ label: String, _ name: String, _ stats: Stats, unit: String) {
    print(
        "\(label): p50 \(fixed(stats.p50, 2)) \(unit), mean \(fixed(stats.mean, 2)), p99 \(fixed(stats.p99, 2))"
            + " (\(stats.count) runs)")
    print("metric \(name)_p50 \(fixed(stats.p50, 3))")
    print("metric \(name)_mean \(fixed(stats.mean, 3))")
    print("metric \(name)_p99 \(fixed(stats.p99, 3))")
}
