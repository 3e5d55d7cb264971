public import FoundationEssentials
import Synchronization

/// Token ids (`jti`) that must no longer be accepted, e.g. after a logout or a password change.
///
/// An entry only needs to live until the token would have expired anyway. The production
/// implementation keeps them in Redis so that every replica sees a revocation.
public protocol RevocationList: Sendable {
    /// Whether the token with this id has been revoked. Throws when the list cannot be read;
    /// the caller then fails closed.
    func isRevoked(tokenID: String) async throws -> Bool

    /// Revokes a token until `until` (its expiry), after which the entry may be forgotten.
    func revoke(tokenID: String, until: Date) async throws
}

/// A revocation list in this process's memory, for tests and single-process setups.
public final class InMemoryRevocationList: RevocationList {
    private let entries = Mutex<[String: Date]>([:])
    private let now: @Sendable () -> Date

    /// An empty list.
    ///
    /// - Parameter now: the clock, replaceable in tests.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Whether the token is revoked and its entry has not run out.
    public func isRevoked(tokenID: String) async throws -> Bool {
        let now = now()
        return entries.withLock { entries in
            guard let until = entries[tokenID] else { return false }
            if until < now {
                entries[tokenID] = nil
                return false
            }
            return true
        }
    }

    /// Revokes a token until `until`.
    public func revoke(tokenID: String, until: Date) async throws {
        entries.withLock { $0[tokenID] = max(until, $0[tokenID] ?? until) }
    }
}
