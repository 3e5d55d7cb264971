import Foundation

/// When to try a delivery again: exponential backoff with a little jitter, or the receiver's
/// `Retry-After`.
struct RetryPolicy: Sendable {
    var base: Duration
    var maximum: Duration
    var retryAfterMaximum: Duration

    /// The wait after the `attempt`-th failed attempt (1-based): base · 2^(attempt-1), capped,
    /// plus up to 20 % jitter so replicas retrying together spread out.
    func backoff(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let factor = 1 << exponent
        // base · factor without overflow: compared as maximum / factor first.
        let delay = base > maximum / factor ? maximum : min(base * factor, maximum)
        return delay * Double.random(in: 1.0..<1.2)
    }

    /// The wait a receiver asked for, capped at `retryAfterMaximum`; nil when absent or unreadable.
    func retryAfter(_ header: String?, now: Date = Date()) -> Duration? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        let delay: Duration
        if let seconds = Int(header) {
            delay = .seconds(max(seconds, 0))
        } else if let date = Self.httpDate(header) {
            // The receiver chooses the date (year 999999999, say): bounded before it becomes an
            // integer, so no date can trap the conversion.
            let seconds = date.timeIntervalSince(now)
            guard seconds.isFinite else { return nil }
            delay = .milliseconds(Int64(min(max(seconds, 0), Self.longestDateWait) * 1000))
        } else {
            return nil
        }
        return min(delay, retryAfterMaximum)
    }

    /// The longest wait read from an HTTP date before the cap applies: ten years, in seconds.
    static let longestDateWait: Double = 315_576_000

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form `Retry-After` uses.
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
