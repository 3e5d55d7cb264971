import Foundation
import Saturating

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

    /// The longest Retry-After taken from a provider; longer ones (a hostile 1e300) are clamped.
    static let maximumRetryAfter: Duration = .seconds(24 * 3600)

    /// A Retry-After header's value: delay seconds (the form providers send), at most
    /// `maximumRetryAfter`; nil otherwise.
    static func parseRetryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), let seconds = Double(value), seconds >= 0,
            seconds.isFinite
        else { return nil }
        return min(.milliseconds(Int64(min(seconds, 86_400 * 365) * 1000)), maximumRetryAfter)
    }

    /// A `retry-after-ms` header's value, within `0...maximumRetryAfter`; nil when not a number.
    static func parseRetryAfterMilliseconds(_ value: String?) -> Duration? {
        guard let value, let milliseconds = Int64(value.trimmingCharacters(in: .whitespaces)) else { return nil }
        return Duration.milliseconds(milliseconds).clamped(to: .zero...maximumRetryAfter)
    }
}
