import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Prints `message` to standard error and exits with status 2.
func fail(_ message: String) -> Never {
    progress(message)
    exit(2)
}

/// Prints a progress line to standard error (standard output carries the results).
func progress(_ message: String) {
    let line = Array("ScenarioBenchmark: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Milliseconds in `duration`.
func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e3 + Double(attoseconds) / 1e15
}

/// A summary of timing samples, in milliseconds.
struct Stats: Codable, Sendable {
    /// The median.
    let p50: Double
    /// The 99th percentile (nearest rank).
    let p99: Double
    /// The arithmetic mean.
    let mean: Double
    /// The largest sample.
    let max: Double
    /// How many samples.
    let count: Int

    /// Summarises `samples`; nil when there are none.
    init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        count = sorted.count
        p50 = count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
        p99 = sorted[min(count - 1, Int((Double(count) * 0.99).rounded(.up)) - 1)]
        mean = sorted.reduce(0, +) / Double(count)
        max = sorted[count - 1]
    }
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

/// `p50 / p99 / mean` of `stats` in milliseconds with one decimal, or dashes.
func triple(_ stats: Stats?) -> String {
    guard let stats else { return "-" }
    return "\(fixed(stats.p50, 1)) / \(fixed(stats.p99, 1)) / \(fixed(stats.mean, 1))"
}

/// `text` padded with spaces to `width` characters (left-aligned), or right-aligned when
/// `width` is negative.
func pad(_ text: String, _ width: Int) -> String {
    let count = text.count
    let target = abs(width)
    guard count < target else { return text }
    let spaces = String(repeating: " ", count: target - count)
    return width < 0 ? spaces + text : text + spaces
}

/// The one-minute load average, to show how busy the machine was.
func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? loads[0] : -1
}
