import BenchmarkSupport

/// Prints one result line for ../flow-run (`metric NAME VALUE`) after a readable one.
func report(_ label: String, _ name: String, _ stats: Stats, unit: String) {
    print(
        "\(label): p50 \(fixed(stats.p50, 2)) \(unit), mean \(fixed(stats.mean, 2)), p99 \(fixed(stats.p99, 2))"
            + " (\(stats.count) runs)")
    metric("\(name)_p50", stats.p50)
    metric("\(name)_mean", stats.mean)
    metric("\(name)_p99", stats.p99)
}
