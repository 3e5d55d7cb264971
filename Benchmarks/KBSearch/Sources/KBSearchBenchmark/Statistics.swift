import BenchmarkSupport

/// Prints a readable line and the `metric` lines of `stats`, in milliseconds.
func report(_ label: String, _ name: String, _ stats: Stats) {
    print(
        "\(label): p50 \(fixed(stats.p50, 2)) ms, mean \(fixed(stats.mean, 2)), p99 \(fixed(stats.p99, 2))"
            + " (\(stats.count) queries)")
    metric("\(name)_p50", stats.p50)
    metric("\(name)_mean", stats.mean)
    metric("\(name)_p99", stats.p99)
}
