import BenchmarkSupport

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
