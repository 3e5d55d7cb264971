import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeRedis
import RuntimeSecurity
import ServiceTestSupport
import TestSupport
import Testing

/// A client address no other test uses (TEST-NET-2 has 256; IPv6 documentation space has plenty).
func uniqueClientAddress() -> String {
    let bytes = UUID().uuid
    return String(format: "2001:db8::%x:%x:%x", bytes.0, bytes.1, UInt16(bytes.2) << 8 | UInt16(bytes.3))
}

/// Metadata as a trusted proxy forwards a call from `address` (which claimed to be someone else
/// in its own x-forwarded-for), with `credential` as bearer.
func forwarded(_ address: String, bearer credential: String? = nil) -> Metadata {
    var metadata: Metadata = ["x-forwarded-for": .string("203.0.113.66, \(address)")]
    if let credential { metadata.addString("Bearer \(credential)", forKey: "authorization") }
    return metadata
}

@Suite("Control sign-in and credential checks under attack")
struct AuthLimitTests {
    /// A login request.
    static func login(_ tenant: TestTenant, email: String? = nil, password: String) -> Agentplane_V1_LoginRequest {
        var request = Agentplane_V1_LoginRequest()
        request.tenantSlug = tenant.slug
        request.email = email ?? tenant.ownerEmail
        request.password = password
        return request
    }

    @Test("A concurrent burst of wrong passwords for one email reaches the hasher at most LOGIN_MAX_FAILURES times")
    func burstIsCountedBeforeHashing() async throws {
        let limit = 5
        let attempts = 20
        let fixture = try await ControlFixture.start([
            "LOGIN_MAX_FAILURES": String(limit), "LOGIN_FAILURE_WINDOW": "10m", "PASSWORD_HASH_QUEUE": "1000",
            "TRUSTED_PROXIES": "127.0.0.1",
        ])
        let tenant = try await fixture.createTenant()
        let address = uniqueClientAddress()
        let errors = await withTaskGroup(of: RPCError?.self) { group in
            for _ in 0..<attempts {
                group.addTask {
                    await rpcError {
                        try await fixture.auth.login(
                            Self.login(tenant, password: "wrong-password-1"), metadata: forwarded(address))
                    }
                }
            }
            var errors: [RPCError?] = []
            for await error in group { errors.append(error) }
            return errors
        }
        let limited = errors.filter { $0?.details?.reason == "LOGIN_RATE_LIMITED" }
        #expect(limited.count >= attempts - limit)
        #expect(limited.allSatisfy { $0?.code == .resourceExhausted && $0?.details?.retryAfter != nil })
        #expect(errors.allSatisfy { $0?.code == .unauthenticated || $0?.details?.reason == "LOGIN_RATE_LIMITED" })
        // Still limited for the right password, until the window ends.
        let right = await rpcError {
            try await fixture.auth.login(
                Self.login(tenant, password: tenant.ownerPassword), metadata: forwarded(address))
        }
        #expect(right?.code == .resourceExhausted)
        try await fixture.stop()
    }

    @Test("The per-address counter follows x-forwarded-for only from a trusted proxy")
    func forwardedAddressOnlyFromTrustedProxies() async throws {
        let limit = 3
        let trusted = try await ControlFixture.start([
            "LOGIN_MAX_FAILURES_PER_ADDRESS": String(limit), "LOGIN_FAILURE_WINDOW": "10m",
            "TRUSTED_PROXIES": "127.0.0.1",
        ])
        let tenant = try await trusted.createTenant()
        let address = uniqueClientAddress()
        var codes: [Status.Code?] = []
        for attempt in 0...limit {
            codes.append(
                await statusCode {
                    try await trusted.auth.login(
                        Self.login(tenant, email: "guess\(attempt)@example.com", password: "wrong-pass-123"),
                        metadata: forwarded(address))
                })
        }
        #expect(codes == [Status.Code?](repeating: .unauthenticated, count: limit) + [.resourceExhausted])
        // Another forwarded address is another client.
        #expect(
            await statusCode {
                try await trusted.auth.login(
                    Self.login(tenant, password: tenant.ownerPassword), metadata: forwarded(uniqueClientAddress()))
            } == .ok)
        try await trusted.stop()

        // Without TRUSTED_PROXIES the header is ignored: a new value per attempt does not reset the
        // count (the loopback counter is shared with other tests, so it may bite even earlier).
        let untrusted = try await ControlFixture.start([
            "LOGIN_MAX_FAILURES_PER_ADDRESS": String(limit), "LOGIN_FAILURE_WINDOW": "10m",
        ])
        let other = try await untrusted.createTenant()
        codes = []
        for attempt in 0...limit {
            codes.append(
                await statusCode {
                    try await untrusted.auth.login(
                        Self.login(other, email: "guess\(attempt)@example.com", password: "wrong-pass-123"),
                        metadata: forwarded(uniqueClientAddress()))
                })
        }
        #expect(codes.contains(.resourceExhausted))
        try await untrusted.stop()
    }

    @Test(
        "Password hashing: at PASSWORD_HASH_CONCURRENCY + PASSWORD_HASH_QUEUE every sign-in is served; past it, RESOURCE_EXHAUSTED"
    )
    func hashingConcurrencyIsBounded() async throws {
        let fixture = try await ControlFixture.start([
            "PASSWORD_HASH_CONCURRENCY": "1", "PASSWORD_HASH_QUEUE": "1", "TRUSTED_PROXIES": "127.0.0.1",
        ])
        let tenant = try await fixture.createTenant()
        func burst(_ count: Int) async -> [RPCError?] {
            await withTaskGroup(of: RPCError?.self) { group in
                for index in 0..<count {
                    group.addTask {
                        await rpcError {
                            try await fixture.auth.login(
                                Self.login(
                                    tenant, email: "nobody-\(index)-\(UUID().uuidString.prefix(8))@example.com",
                                    password: "wrong-password-1"), metadata: forwarded(uniqueClientAddress()))
                        }
                    }
                }
                var errors: [RPCError?] = []
                for await error in group { errors.append(error) }
                return errors
            }
        }
        // At the limit: one computing, one waiting.
        let atLimit = await burst(2)
        #expect(atLimit.map { $0?.code } == [.unauthenticated, .unauthenticated])
        // Past it: the surplus is turned away at once, with a hint when to come back.
        let past = await burst(12)
        let busy = past.filter { $0?.details?.reason == "PASSWORD_HASHING_BUSY" }
        #expect(!busy.isEmpty)
        #expect(busy.allSatisfy { $0?.code == .resourceExhausted && $0?.details?.retryAfter?.seconds == 1 })
        #expect(past.allSatisfy { $0?.code == .unauthenticated || $0?.details?.reason == "PASSWORD_HASHING_BUSY" })
        #expect(past.count == 12)
        // The gate is free again afterwards.
        #expect(
            await statusCode {
                try await fixture.auth.login(
                    Self.login(tenant, password: tenant.ownerPassword), metadata: forwarded(uniqueClientAddress()))
            } == .ok)
        try await fixture.stop()
    }

    @Test("Unknown refresh tokens are limited per address before the database is asked")
    func refreshLookupsAreLimited() async throws {
        let limit = 3
        let fixture = try await ControlFixture.start([
            "CREDENTIAL_FAILURES_PER_ADDRESS": String(limit), "CREDENTIAL_FAILURE_WINDOW": "10m",
            "TRUSTED_PROXIES": "127.0.0.1",
        ])
        let tenant = try await fixture.createTenant()
        let tokens = try #require(
            try await fixture.auth.login(
                Self.login(tenant, password: tenant.ownerPassword), metadata: forwarded(uniqueClientAddress())
            ).tokens)
        let attacker = uniqueClientAddress()
        func refresh(_ token: String, from address: String) async -> RPCError? {
            await rpcError {
                try await fixture.auth.refresh(.init(refreshToken: token), metadata: forwarded(address))
            }
        }
        for _ in 0..<limit {
            let guess = OpaqueCredentialText.refresh(tenant: tenant.id)
            #expect(await refresh(guess, from: attacker)?.code == .unauthenticated)
        }
        let limited = await refresh(OpaqueCredentialText.refresh(tenant: tenant.id), from: attacker)
        #expect(limited?.code == .resourceExhausted && limited?.details?.reason == "CREDENTIAL_RATE_LIMITED")
        let retry = try #require(limited?.details?.retryAfter?.duration)
        #expect(retry > .zero && retry <= .seconds(600))
        // Even a valid token is refused from there, and was not consumed: the database was not asked.
        #expect(await refresh(tokens.refreshToken, from: attacker)?.code == .resourceExhausted)
        let elsewhere = try await fixture.auth.refresh(
            .init(refreshToken: tokens.refreshToken), metadata: forwarded(uniqueClientAddress()))
        #expect(elsewhere.tokens?.refreshToken.hasPrefix("rt_") == true)
        try await fixture.stop()
    }

    @Test("Unknown API keys are limited per address before the database is asked")
    func apiKeyLookupsAreLimited() async throws {
        let limit = 3
        let fixture = try await ControlFixture.start([
            "CREDENTIAL_FAILURES_PER_ADDRESS": String(limit), "CREDENTIAL_FAILURE_WINDOW": "10m",
            "TRUSTED_PROXIES": "127.0.0.1",
        ])
        let tenant = try await fixture.createTenant()
        let owner = try await fixture.ownerMetadata(tenant)
        var create = Agentplane_V1_CreateApiKeyRequest()
        create.name = "ci"
        create.roles = [.member]
        let key = try await fixture.users.createApiKey(create, metadata: owner)
        let attacker = uniqueClientAddress()
        for _ in 0..<limit {
            let guess = OpaqueCredentialText.apiKey(tenant: tenant.id)
            #expect(
                await statusCode {
                    try await fixture.auth.whoAmI(.init(), metadata: forwarded(attacker, bearer: guess))
                }
                    == .unauthenticated)
        }
        let limited = await rpcError {
            try await fixture.auth.whoAmI(
                .init(), metadata: forwarded(attacker, bearer: OpaqueCredentialText.apiKey(tenant: tenant.id)))
        }
        #expect(limited?.code == .resourceExhausted && limited?.details?.reason == "CREDENTIAL_RATE_LIMITED")
        #expect(
            await statusCode {
                try await fixture.auth.whoAmI(.init(), metadata: forwarded(attacker, bearer: key.secret))
            } == .resourceExhausted)
        // The valid key's lookup never reached the store: it was never used.
        let listed = try await fixture.users.listApiKeys(.init(), metadata: owner)
        #expect(listed.apiKeys.first { $0.id == key.apiKey?.id }?.lastUsedAt == nil)
        let who = try await fixture.auth.whoAmI(
            .init(), metadata: forwarded(uniqueClientAddress(), bearer: key.secret))
        #expect(who.principalKind == .apiKey)
        try await fixture.stop()
    }

    @Test("An API key lives at most 3650 days: at the limit it is created, past it (up to Int64.max s) refused")
    func apiKeyLifetimeIsBounded() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let owner = try await fixture.ownerMetadata(tenant)
        var create = Agentplane_V1_CreateApiKeyRequest()
        create.name = "long"
        create.roles = [.member]
        create.ttl = Google_Protobuf_Duration(seconds: 3650 * 86400, nanos: 0)
        let created = try await fixture.users.createApiKey(create, metadata: owner)
        let expires = try #require(created.apiKey?.expiresAt?.date)
        #expect(abs(expires.timeIntervalSinceNow - 3650 * 86400) < 600)
        for ttl in [
            Google_Protobuf_Duration(seconds: 3650 * 86400, nanos: 1),
            Google_Protobuf_Duration(seconds: Int64.max, nanos: 999_999_999),
        ] {
            create.ttl = ttl
            let refused = await rpcError { try await fixture.users.createApiKey(create, metadata: owner) }
            #expect(refused?.code == .invalidArgument)
        }
        try await fixture.stop()
    }

    @Test("With Redis down, Login fails closed (UNAVAILABLE); credential lookups still answer")
    func redisDownFailsLoginClosed() async throws {
        let port = testServerPort()
        let redis = try ChildProcess(
            ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            readsOutput: false)
        let url = "redis://127.0.0.1:\(port)/0"
        let probe = RedisPool(configuration: try RedisConfiguration(url: url, maximumConnections: 1))
        let deadline = ContinuousClock.now + .seconds(10)
        while (try? await probe.send("PING")) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        probe.close()
        let fixture = try await ControlFixture.start(["REDIS_URL": url, "TRUSTED_PROXIES": "127.0.0.1"])
        let tenant = try await fixture.createTenant()
        let address = uniqueClientAddress()
        #expect(
            await statusCode {
                try await fixture.auth.login(
                    Self.login(tenant, password: tenant.ownerPassword), metadata: forwarded(address))
            } == .ok)
        redis.stop()
        _ = try await redis.waitForExit(timeout: .seconds(10))
        let down = await rpcError {
            try await fixture.auth.login(
                Self.login(tenant, password: tenant.ownerPassword), metadata: forwarded(address))
        }
        #expect(down?.code == .unavailable)
        #expect(down?.details?.reason == "LOGIN_LIMITER_UNAVAILABLE")
        // Refresh still answers from the database (its limiter fails open, logged).
        #expect(
            await statusCode {
                try await fixture.auth.refresh(
                    .init(refreshToken: OpaqueCredentialText.refresh(tenant: tenant.id)), metadata: forwarded(address))
            } == .unauthenticated)
        try await fixture.stop()
    }
}

/// Credentials of the right shape that no store knows.
enum OpaqueCredentialText {
    static func refresh(tenant: String) -> String { "rt_" + secret() + "." + base64URL(tenant) }
    static func apiKey(tenant: String) -> String { "apk_" + secret() + "." + base64URL(tenant) }

    private static func secret() -> String {
        base64URL(String((0..<32).map { _ in "abcdefghij".randomElement()! })).prefix(43).description
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
