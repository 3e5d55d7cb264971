import Foundation

/// When to try a failed provider call again: exponential backoff with jitter, honouring the
/// provider's Retry-After, never past the call's deadline.
struct RetryPolicy: Sendable {
    var maximumRetries: Int
    var baseDelay: Duration
    var maximumDelay: Duration

    /// The wait before retry number `retry` (1-based): `base * 2^(retry-1)`, scaled by a random
    /// factor in [0.5, 1.0], at least the provider's Retry-After, at most `maximumDelay`.
    func delay(retry: Int, retryAfter: Duration?) -> Duration {
        let exponential = baseDelay * (1 << min(retry - 1, 20))
        let jittered = exponential * Double.random(in: 0.5...1.0)
        return min(max(jittered, retryAfter ?? .zero), maximumDelay)
    }

    /// A Retry-After header's value: delay seconds (the form providers send); nil otherwise.
    static func parseRetryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), let seconds = Double(value), seconds >= 0,
            seconds.isFinite
        else { return nil }
        return .milliseconds(Int64(seconds * 1000))
    }
}
