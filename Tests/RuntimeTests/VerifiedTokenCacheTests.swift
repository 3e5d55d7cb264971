import Foundation
import Synchronization
import Testing

@testable import RuntimeSecurity

/// A clock a test moves by hand.
private final class TestClock: Sendable {
    private let time = Mutex(Date())
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

@Suite("TokenVerifier: verified tokens are remembered, their times checked on every use")
struct VerifiedTokenCacheTests {
    @Test func aRememberedTokenStillExpiresOnTime() async throws {
        let clock = TestClock()
        let verifier = try TokenVerifier(secret: authTestSecret, leeway: .seconds(5), now: { clock.now })
        let token = try await TokenIssuer(secret: authTestSecret, now: { clock.now })
            .issueAccessToken(tenantID: "tenant-a", userID: "user-1", role: .member, ttl: .seconds(60))
        let first = try await verifier.verify(token.token)
        let second = try await verifier.verify(token.token)
        #expect(first == second)
        #expect(second.tenantID == "tenant-a")
        clock.advance(64)  // within the leeway after exp
        _ = try await verifier.verify(token.token)
        clock.advance(2)
        let error = await #expect(throws: TokenVerificationError.self) { try await verifier.verify(token.token) }
        #expect(error?.code == .expired)
    }

    @Test func aTokenNotValidYetIsRefusedEvenAfterItWasRemembered() async throws {
        let clock = TestClock()
        let verifier = try TokenVerifier(secret: authTestSecret, leeway: .seconds(5), now: { clock.now })
        var claims = platformClaims(now: clock.now)
        claims["nbf"] = Int(clock.now.timeIntervalSince1970) + 3
        let token = try handSignedToken(claims: claims)
        _ = try await verifier.verify(token)  // within the leeway
        clock.advance(-10)  // the clock is set back: the remembered token is not valid yet
        let error = await #expect(throws: TokenVerificationError.self) { try await verifier.verify(token) }
        #expect(error?.code == .notYetValid)
    }

    @Test func refusedTokensAreNotRememberedAndTheCacheStaysBounded() async throws {
        let verifier = try TokenVerifier(secret: authTestSecret, cacheEntries: 2)
        let forged = try handSignedToken(claims: platformClaims(), secret: Array(repeating: 7, count: 32))
        for _ in 0..<2 {
            let error = await #expect(throws: TokenVerificationError.self) { try await verifier.verify(forged) }
            #expect(error?.code == .badSignature)
        }
        let cache = VerifiedTokenCache(capacity: 2)
        let context = AuthContext(kind: .user, tenantID: "t", userID: "u", role: .member)
        let now = Date().timeIntervalSince1970
        let entry = VerifiedTokenCache.Entry(context: context, expiry: now + 60, notBefore: nil)
        let expired = VerifiedTokenCache.Entry(context: context, expiry: now - 1, notBefore: nil)
        cache.store(expired, for: VerifiedTokenCache.key("a"), now: now)
        cache.store(entry, for: VerifiedTokenCache.key("b"), now: now)
        #expect(cache.count == 2)
        // At capacity the expired entry goes first.
        cache.store(entry, for: VerifiedTokenCache.key("c"), now: now)
        #expect(cache.count == 2)
        #expect(cache.entry(VerifiedTokenCache.key("a")) == nil)
        #expect(cache.entry(VerifiedTokenCache.key("b")) != nil)
        // With none expired, all go.
        cache.store(entry, for: VerifiedTokenCache.key("d"), now: now)
        #expect(cache.count == 1)
        #expect(cache.entry(VerifiedTokenCache.key("d")) != nil)
        // Capacity 0 keeps nothing.
        let none = VerifiedTokenCache(capacity: 0)
        none.store(entry, for: VerifiedTokenCache.key("a"), now: now)
        #expect(none.count == 0)
    }
}
