import Crypto
import FoundationEssentials
import Synchronization

/// Tokens this process has already verified, so that the same bearer token on the next call
/// costs a hash and a lookup instead of two JSON decodes and an HMAC: within one message the
/// service token a run carries reaches the same service several times.
///
/// Entries are keyed by the SHA-256 of the token's text (a token is never kept), hold the
/// identity the token proved and its time claims, which are checked again on every hit, so a
/// cached token expires exactly when an uncached one would. Only tokens that verified are
/// kept. At `capacity`, expired entries are dropped first and, if none were, all of them.
final class VerifiedTokenCache: Sendable {
    /// What a verified token proved and until when.
    struct Entry: Sendable {
        var context: AuthContext
        /// `exp`, as Unix seconds.
        var expiry: Double
        /// The later of `nbf` and `iat`, as Unix seconds, when either is present.
        var notBefore: Double?
    }

    /// The most entries kept; 0 keeps none.
    let capacity: Int
    private let entries = Mutex<[SHA256Digest: Entry]>([:])

    /// An empty cache of at most `capacity` entries.
    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The key of a token.
    static func key(_ token: String) -> SHA256Digest {
        SHA256.hash(data: Array(token.utf8))
    }

    /// The entry for `key`, if one is kept.
    func entry(_ key: SHA256Digest) -> Entry? {
        guard capacity > 0 else { return nil }
        return entries.withLock { $0[key] }
    }

    /// Keeps `entry` under `key`; `now` (Unix seconds) decides which entries have expired.
    func store(_ entry: Entry, for key: SHA256Digest, now: Double) {
        guard capacity > 0 else { return }
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil {
                entries = entries.filter { $0.value.expiry >= now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = entry
        }
    }

    /// Forgets every entry, e.g. when an issuer's keys change.
    func removeAll() {
        entries.withLock { $0.removeAll() }
    }

    /// How many entries are kept (for tests).
    var count: Int { entries.withLock { $0.count } }
}
