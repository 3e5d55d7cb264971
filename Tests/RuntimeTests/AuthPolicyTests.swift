import Foundation
import RPCCore
import RuntimeSecurity
import Testing

/// An API key store with one key.
private struct OneAPIKey: APIKeyVerifier {
    func verify(apiKey: String) async throws -> AuthContext? {
        if apiKey == "apk_down" { throw UnreachableRevocationList.Down() }
        guard apiKey == "apk_good" else { return nil }
        return AuthContext(kind: .user, tenantID: "tenant-a", userID: "key-owner", role: .builder)
    }
}

/// Runs one call through the interceptor; returns the caller the handler saw.
private func callThrough(
    _ interceptor: AuthInterceptor, path: String, metadata: Metadata
) async throws -> AuthContext? {
    let parts = path.split(separator: "/")
    let context = ServerContext(
        descriptor: MethodDescriptor(service: String(parts[0]), method: String(parts[1]), kind: .unary),
        metadata: metadata, deadline: nil, peer: "test")
    let seen = SeenCaller()
    try await interceptor.intercept(context: context) { _ in seen.set(AuthContext.current) }
    return seen.get()
}

/// What the handler saw.
private final class SeenCaller: @unchecked Sendable {
    private let lock = NSLock()
    private var caller: AuthContext?

    func set(_ caller: AuthContext?) { lock.withLock { self.caller = caller } }
    func get() -> AuthContext? { lock.withLock { caller } }
}

@Suite("Auth roles and policy")
struct AuthPolicyTests {
    @Test("roles follow owner > admin > builder > member; service stands apart")
    func roleOrder() {
        #expect(Role.owner.satisfies(.admin))
        #expect(Role.admin.satisfies(.builder))
        #expect(Role.builder.satisfies(.builder))
        #expect(!Role.member.satisfies(.builder))
        #expect(!Role.service.satisfies(.member))
        #expect(Role.service.satisfies(.service))
        #expect(!Role.owner.satisfies(.service))
        #expect(Role(name: "ROLE_ADMIN") == .admin)
        #expect(Role(name: "Builder") == .builder)
        #expect(Role(name: "offline_access") == nil)
        #expect(Role.highestHuman(of: [.member, .service, .admin]) == .admin)
    }

    @Test("AuthContext.require gives UNAUTHENTICATED without a caller and PERMISSION_DENIED naming the role")
    func requireHelpers() throws {
        #expect(throws: RPCError(code: .unauthenticated, message: "this call requires credentials")) {
            try AuthContext.require(minimum: .member)
        }
        let member = AuthContext(kind: .user, tenantID: "t", userID: "u", role: .member)
        try AuthContext.$current.withValue(member) { () throws in
            #expect(try AuthContext.require(minimum: .member) == member)
            let denied = #expect(throws: RPCError.self) { try AuthContext.require(minimum: .admin) }
            #expect(denied?.code == .permissionDenied)
            #expect(denied?.message.contains("admin") == true)
            #expect((#expect(throws: RPCError.self) { try AuthContext.requireService() })?.code == .permissionDenied)
        }
        let service = AuthContext(kind: .service, tenantID: "t", userID: "service:x", role: .service)
        try AuthContext.$current.withValue(service) { () throws in
            #expect(try AuthContext.requireService().kind == .service)
            #expect(
                (#expect(throws: RPCError.self) { try AuthContext.require(minimum: .member) })?.code
                    == .permissionDenied)
        }
    }

    @Test("policy: public methods, per-method and per-service minimum roles, where service tokens go")
    func policyTable() {
        let policy = AuthPolicy(
            minimumRoles: ["/a.Agents/": .builder, "/a.Agents/List": .member, "/a.Tools/Execute": .service],
            serviceMethods: ["/a.Agents/Get"])
        #expect(policy.isPublic("/grpc.health.v1.Health/Check"))
        #expect(policy.isPublic("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"))
        #expect(policy.isPublic("/agentplane.v1.AuthService/Login"))
        #expect(!policy.isPublic("/agentplane.v1.AuthService/Logout"))
        #expect(policy.minimumRole(for: "/a.Agents/Create") == .builder)
        #expect(policy.minimumRole(for: "/a.Agents/List") == .member)
        #expect(policy.minimumRole(for: "/a.Other/Do") == .member)
        let service = AuthContext(kind: .service, tenantID: "t", userID: "service:x", role: .service)
        let owner = AuthContext(kind: .user, tenantID: "t", userID: "u", role: .owner)
        #expect(policy.allows(service, path: "/a.Agents/Get"))
        #expect(policy.allows(service, path: "/a.Tools/Execute"))
        #expect(!policy.allows(service, path: "/a.Agents/List"))
        #expect(!policy.allows(owner, path: "/a.Tools/Execute"))
        #expect(policy.allows(owner, path: "/a.Agents/Create"))
        var internalService = policy
        internalService.acceptServiceEverywhere = true
        #expect(internalService.allows(service, path: "/a.Agents/List"))
    }

    @Test("the interceptor: public calls keep a valid caller, API keys, service tokens, fail-closed revocation")
    func interceptorPaths() async throws {
        let issuer = try TokenIssuer(secret: authTestSecret)
        let verifier = try TokenVerifier(secret: authTestSecret)
        let member = try await issuer.issueAccessToken(tenantID: "tenant-a", userID: "user-1", role: .member)
        let service = try await issuer.issueServiceToken(
            service: "execution", tenantID: "tenant-a", actingUserID: "user-1")
        let plain = AuthInterceptor(verifier: verifier, revocations: InMemoryRevocationList())

        let login = "/agentplane.v1.AuthService/Login"
        #expect(try await callThrough(plain, path: login, metadata: [:]) == nil)
        #expect(try await callThrough(plain, path: login, metadata: bearerMetadata("junk")) == nil)
        let known = try await callThrough(plain, path: login, metadata: bearerMetadata(member.token))
        #expect(known?.userID == "user-1")

        let serviceError = await #expect(throws: RPCError.self) {
            _ = try await callThrough(plain, path: "/a.Agents/List", metadata: bearerMetadata(service.token))
        }
        #expect(serviceError?.code == .permissionDenied)
        let everywhere = AuthInterceptor(
            verifier: verifier, policy: AuthPolicy(acceptServiceEverywhere: true),
            revocations: InMemoryRevocationList())
        let asService = try await callThrough(
            everywhere, path: "/a.Agents/List", metadata: bearerMetadata(service.token))
        #expect(asService?.kind == .service)
        #expect(asService?.actingUserID == "user-1")

        let malformed: [(Metadata.Value, String)] = [
            ("Bearer ", "empty bearer token"), ("Bearer", "empty bearer token"), ("", "empty authorization"),
            ("Basic abc", "unsupported authorization scheme"), ("Bearer a b", "malformed authorization"),
        ]
        for (value, message) in malformed {
            let error = await #expect(throws: RPCError.self) {
                _ = try await callThrough(plain, path: "/a.Agents/List", metadata: ["authorization": value])
            }
            #expect(error?.code == .unauthenticated)
            #expect(error?.message.hasPrefix(message) == true, "\(value): \(String(describing: error))")
        }
        let missing = await #expect(throws: RPCError.self) {
            _ = try await callThrough(plain, path: "/a.Agents/List", metadata: [:])
        }
        #expect(missing?.message.hasPrefix("missing credentials") == true)

        let twice = Metadata(dictionaryLiteral: ("authorization", "Bearer a"), ("authorization", "Bearer b"))
        let twiceError = await #expect(throws: RPCError.self) {
            _ = try await callThrough(plain, path: "/a.Agents/List", metadata: twice)
        }
        #expect(twiceError?.code == .unauthenticated)

        let unreachable = AuthInterceptor(verifier: verifier, revocations: UnreachableRevocationList())
        let down = await #expect(throws: RPCError.self) {
            _ = try await callThrough(unreachable, path: "/a.Agents/List", metadata: bearerMetadata(member.token))
        }
        #expect(down?.code == .unavailable)
        // Service tokens are never revoked, so the list is not asked for them.
        let unreachableEverywhere = AuthInterceptor(
            verifier: verifier, policy: AuthPolicy(acceptServiceEverywhere: true),
            revocations: UnreachableRevocationList())
        let serviceThroughDownList = try await callThrough(
            unreachableEverywhere, path: "/a.Agents/List", metadata: bearerMetadata(service.token))
        #expect(serviceThroughDownList?.kind == .service)

        let keyed = AuthInterceptor(
            verifier: verifier, revocations: InMemoryRevocationList(), apiKeyVerifier: OneAPIKey())
        let byKey = try await callThrough(keyed, path: "/a.Agents/List", metadata: bearerMetadata("apk_good"))
        #expect(byKey?.kind == .apiKey)
        #expect(byKey?.role == .builder)
        let unknownKey = await #expect(throws: RPCError.self) {
            _ = try await callThrough(keyed, path: "/a.Agents/List", metadata: bearerMetadata("apk_bad"))
        }
        #expect(unknownKey?.code == .unauthenticated)
        let storeDown = await #expect(throws: RPCError.self) {
            _ = try await callThrough(keyed, path: "/a.Agents/List", metadata: bearerMetadata("apk_down"))
        }
        #expect(storeDown?.code == .unavailable)
        let noVerifier = await #expect(throws: RPCError.self) {
            _ = try await callThrough(plain, path: "/a.Agents/List", metadata: bearerMetadata("apk_good"))
        }
        #expect(noVerifier?.message.contains("control plane") == true)
    }
}
