/// When a run's Redis keys (its events stream, its checkpoint list) get their TTL set again.
///
/// Setting it on every write cost a command per write; setting it at least every quarter of the
/// TTL (and at most a minute apart) keeps a key from expiring while the run writes to it, as long
/// as each refresh sets the full TTL. The first write of a writer and a run's last write
/// (ended, paused) always refresh.
struct TTLRefresh: Sendable {
    /// The longest time between two refreshes.
    let interval: Duration
    private var last: ContinuousClock.Instant?

    /// A schedule for keys whose TTL is `ttl`.
    init(ttl: Duration) {
        interval = min(ttl / 4, .seconds(60))
    }

    /// Whether the write at `now` sets the TTL (`final`: the run's last write for now); recorded
    /// as done when so.
    mutating func due(now: ContinuousClock.Instant, final: Bool = false) -> Bool {
        if let last, !final, now - last < interval { return false }
        last = now
        return true
    }
}
