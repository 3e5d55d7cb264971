import Foundation
import RPCCore
import RuntimeSecurity
import Synchronization
import Testing

@Suite("Auth identity propagation")
struct AuthPropagationTests {
    private let call = ClientCallInfo(
        descriptor: MethodDescriptor(service: "agentplane.v1.LLMService", method: "Chat", kind: .unary),
        metadata: ["x-trace": "1"], options: CallOptions())

    /// The `authorization` value an outbound call leaves with.
    private func outgoingAuthorization(
        _ interceptor: IdentityPropagationInterceptor, _ call: ClientCallInfo
    ) async throws -> String? {
        try await interceptor.intercept(call) { call in call.metadata.firstString(forKey: "authorization") }
    }

    /// The caller a server would see for an incoming token, as the AuthInterceptor verifies it.
    private func serverSide(_ token: String) async throws -> AuthContext {
        try await TokenVerifier(secret: authTestSecret).verify(token)
    }

    @Test("a user's call goes out with a service token for the tenant, acting for the user")
    func userBecomesServiceToken() async throws {
        let issuer = try TokenIssuer(secret: authTestSecret)
        let interceptor = IdentityPropagationInterceptor(issuer: issuer, serviceName: "control")
        let user = try await serverSide(
            issuer.issueAccessToken(tenantID: "tenant-a", userID: "user-7", role: .builder).token)
        let header = try await AuthContext.$current.withValue(user) {
            try await outgoingAuthorization(interceptor, call)
        }
        let value = try #require(header)
        #expect(value.hasPrefix("Bearer "))
        let downstream = try await serverSide(String(value.dropFirst("Bearer ".count)))
        #expect(downstream.kind == .service)
        #expect(downstream.role == .service)
        #expect(downstream.tenantID == "tenant-a")
        #expect(downstream.actingUserID == "user-7")
        #expect(downstream.serviceName == "control")
    }

    @Test("an API key caller is turned into a service token as well")
    func apiKeyBecomesServiceToken() async throws {
        let interceptor = IdentityPropagationInterceptor(
            issuer: try TokenIssuer(secret: authTestSecret), serviceName: "control")
        let caller = AuthContext(kind: .apiKey, tenantID: "tenant-b", userID: "key-owner", role: .member)
        let header = try await AuthContext.$current.withValue(caller) {
            try await outgoingAuthorization(interceptor, call)
        }
        let downstream = try await serverSide(String(try #require(header).dropFirst("Bearer ".count)))
        #expect(downstream.tenantID == "tenant-b")
        #expect(downstream.actingUserID == "key-owner")
    }

    @Test("a service token is forwarded as is; an expiring one is renewed for the same tenant and user")
    func serviceTokenForwarded() async throws {
        let issuer = try TokenIssuer(secret: authTestSecret)
        let minted = try await issuer.issueServiceToken(service: "control", tenantID: "tenant-a", actingUserID: "u-1")
        let interceptor = IdentityPropagationInterceptor(issuer: issuer, serviceName: "execution")
        let server = AuthInterceptor(
            verifier: try TokenVerifier(secret: authTestSecret), policy: AuthPolicy(acceptServiceEverywhere: true),
            revocations: InMemoryRevocationList())
        let asCalled = try #require(try await server.interceptedCaller(token: minted.token))
        let header = try await AuthContext.$current.withValue(asCalled) {
            try await outgoingAuthorization(interceptor, call)
        }
        #expect(header == "Bearer \(minted.token)")

        let soon = IdentityPropagationInterceptor(
            issuer: issuer, serviceName: "execution", now: { Date().addingTimeInterval(58) })
        let renewed = try await AuthContext.$current.withValue(asCalled) { try await outgoingAuthorization(soon, call) }
        let renewedToken = String(try #require(renewed).dropFirst("Bearer ".count))
        #expect(renewedToken != minted.token)
        let downstream = try await serverSide(renewedToken)
        #expect(downstream.tenantID == "tenant-a")
        #expect(downstream.actingUserID == "u-1")
        #expect(downstream.serviceName == "execution")
    }

    @Test("a minted token serves the same tenant and user while more than half its lifetime is left")
    func mintedTokensAreReused() async throws {
        let issuer = try TokenIssuer(secret: authTestSecret)
        let clock = Mutex(Date())
        let interceptor = IdentityPropagationInterceptor(
            issuer: issuer, serviceName: "control", tokenLifetime: .seconds(60), now: { clock.withLock { $0 } })
        func token(tenant: String, user: String) async throws -> String? {
            let caller = AuthContext(kind: .user, tenantID: tenant, userID: user, role: .member)
            return try await AuthContext.$current.withValue(caller) {
                try await outgoingAuthorization(interceptor, call)
            }
        }
        let first = try await token(tenant: "tenant-a", user: "u-1")
        #expect(try await token(tenant: "tenant-a", user: "u-1") == first)
        // Another user or tenant gets a token of its own.
        let other = try await token(tenant: "tenant-a", user: "u-2")
        #expect(other != first)
        let otherTenant = try await token(tenant: "tenant-b", user: "u-1")
        #expect(otherTenant != first)
        let downstream = try await serverSide(String(try #require(otherTenant).dropFirst("Bearer ".count)))
        #expect(downstream.tenantID == "tenant-b")
        // With half its lifetime gone, a new one.
        clock.withLock { $0 = $0.addingTimeInterval(31) }
        #expect(try await token(tenant: "tenant-a", user: "u-1") != first)
        // Without a cache, every call mints.
        let uncached = IdentityPropagationInterceptor(issuer: issuer, serviceName: "control", cacheEntries: 0)
        let caller = AuthContext(kind: .user, tenantID: "tenant-a", userID: "u-1", role: .member)
        let one = try await AuthContext.$current.withValue(caller) { try await outgoingAuthorization(uncached, call) }
        let two = try await AuthContext.$current.withValue(caller) { try await outgoingAuthorization(uncached, call) }
        #expect(one != two)
    }

    @Test("no caller, or credentials already set: the call is left alone")
    func leftAlone() async throws {
        let interceptor = IdentityPropagationInterceptor(
            issuer: try TokenIssuer(secret: authTestSecret), serviceName: "control")
        #expect(try await outgoingAuthorization(interceptor, call) == nil)
        var explicit = call
        explicit.metadata.addString("Bearer mine", forKey: "authorization")
        let caller = AuthContext(kind: .user, tenantID: "t", userID: "u", role: .member)
        let header = try await AuthContext.$current.withValue(caller) {
            try await outgoingAuthorization(interceptor, explicit)
        }
        #expect(header == "Bearer mine")
    }
}

extension AuthInterceptor {
    /// The caller a handler behind this interceptor sees for a bearer token.
    fileprivate func interceptedCaller(token: String) async throws -> AuthContext? {
        let context = ServerContext(
            descriptor: MethodDescriptor(service: "a.B", method: "C", kind: .unary),
            metadata: bearerMetadata(token), deadline: nil, peer: "test")
        let box = CallerBox()
        try await intercept(context: context) { _ in box.caller = AuthContext.current }
        return box.caller
    }
}

/// Carries the caller out of the handler closure.
private final class CallerBox: @unchecked Sendable {
    var caller: AuthContext?
}
