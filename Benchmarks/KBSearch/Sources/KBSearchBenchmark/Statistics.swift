import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Prints `message` to standard error and exits with status 2.
func fail(_ message: String) -> Never {
    let line = Array("KBSearchBenchmark: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(ServiceLogWatcher.terminal, $0.baseAddress, $0.count) }
    exit(2)
}

/// Prints a progress line to standard error (standard output carries the results).
func progress(_ message: String) {
    let line = Array("KBSearchBenchmark: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(ServiceLogWatcher.terminal, $0.baseAddress, $0.count) }
}

/// Milliseconds in `duration`.
func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e3 + Double(attoseconds) / 1e15
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

/// Prints one result line for Benchmarks/kb-run (`metric NAME VALUE`).
func metric(_ name: String, _ value: Double, digits: Int = 3) {
    print("metric \(name) \(fixed(value, digits))")
}

/// Prints a readable line and the `metric` lines of `stats`, in milliseconds.
func report(_ label: String, _ name: String, _ stats: Stats) {
    print(
        "\(label): p50 \(fixed(stats.p50, 2)) ms, mean \(fixed(stats.mean, 2)), p99 \(fixed(stats.p99, 2))"
            + " (\(stats.count) queries)")
    metric("\(name)_p50", stats.p50)
    metric("\(name)_mean", stats.mean)
    metric("\(name)_p99", stats.p99)
}
