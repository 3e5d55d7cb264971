import CryptoExtras
import Foundation
import InteropTesting
import JWTKit
import RPCCore
import RPCHTTP2
import RPCModels
import RuntimeSecurity
import StandardServices
import Testing

/// Claims of an RS256 token from an issuer nobody configured.
private struct ForeignClaims: JWTPayload {
    var iss: String
    var sub: String
    var tenantID: String
    var roles: [String]
    var exp: Int

    enum CodingKeys: String, CodingKey {
        case iss, sub, roles, exp
        case tenantID = "tenant_id"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

@Suite("Auth interceptor over a real RPC")
struct AuthInterceptorRPCTests {
    @Test("missing, malformed, forged, expired, unsigned, revoked and foreign tokens are UNAUTHENTICATED")
    func rejectsBadCredentialsAndAcceptsGoodOnes() async throws {
        let issuer = try TokenIssuer(secret: authTestSecret)
        let verifier = try TokenVerifier(secret: authTestSecret)
        let revocations = InMemoryRevocationList()
        let policy = AuthPolicy(minimumRoles: ["/grpc.testing.TestService/UnaryCall": .admin])
        let (services, _) = StandardServices.adding(to: [TestServiceImplementation()])
        let server = GRPCServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1), services: services,
            interceptors: [AuthInterceptor(verifier: verifier, policy: policy, revocations: revocations)])
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))

        let valid = try await issuer.issueAccessToken(tenantID: "tenant-a", userID: "user-1", role: .member)
        let forged = try await TokenIssuer(secret: Array("another-secret-0123456789-abcdefghijklmnop".utf8))
            .issueAccessToken(tenantID: "tenant-a", userID: "user-1", role: .owner)
        let expired = try await TokenIssuer(secret: authTestSecret, now: { Date().addingTimeInterval(-7200) })
            .issueAccessToken(tenantID: "tenant-a", userID: "user-1", role: .member, ttl: .seconds(600))
        let unsigned =
            "\(try authBase64URLJSON(["alg": "none", "typ": "JWT"])).\(try authBase64URLJSON(platformClaims()))."
        let revoked = try await issuer.issueAccessToken(tenantID: "tenant-a", userID: "user-1", role: .member)
        try await revocations.revoke(tokenID: revoked.tokenID, until: revoked.expiresAt)
        let rsa = JWTKeyCollection()
        await rsa.add(
            rsa: try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048)),
            digestAlgorithm: .sha256, kid: "foreign-key")
        let foreign = try await rsa.sign(
            ForeignClaims(
                iss: "https://sso.elsewhere.example/realms/x", sub: "user-1", tenantID: "tenant-a", roles: ["owner"],
                exp: Int(Date().timeIntervalSince1970) + 300))

        let rejected: [(String, Metadata)] = [
            ("no authorization", [:]),
            ("Basic scheme", ["authorization": "Basic dXNlcjpwYXNz"]),
            // "Bearer " with its trailing space never reaches a server: HTTP/2 forbids a field value
            // ending in whitespace, and nghttp2 resets such a stream. The unit tests cover it.
            ("empty bearer", ["authorization": "Bearer"]),
            ("garbage", bearerMetadata("garbage")),
            ("three garbage parts", bearerMetadata("a.b.c")),
            ("bad signature", bearerMetadata(forged.token)),
            ("expired", bearerMetadata(expired.token)),
            ("alg none", bearerMetadata(unsigned)),
            ("revoked jti", bearerMetadata(revoked.token)),
            ("RS256 from an unknown issuer", bearerMetadata(foreign)),
            ("API key without a verifier", bearerMetadata("apk_0123456789")),
        ]
        for (name, metadata) in rejected {
            let error = await #expect(throws: RPCError.self, "\(name)") {
                _ = try await client.emptyCall(Grpc_Testing_Empty(), metadata: metadata)
            }
            #expect(error?.code == .unauthenticated, "\(name): \(String(describing: error))")
            #expect(error?.message.contains(valid.token) != true)
        }

        _ = try await client.emptyCall(Grpc_Testing_Empty(), metadata: bearerMetadata(valid.token))
        _ = try await client.emptyCall(
            Grpc_Testing_Empty(), metadata: ["authorization": .string("bearer \(valid.token)")])

        let denied = await #expect(throws: RPCError.self) {
            _ = try await client.unaryCall(Grpc_Testing_SimpleRequest(), metadata: bearerMetadata(valid.token))
        }
        #expect(denied?.code == .permissionDenied)
        #expect(denied?.message.contains("admin") == true)
        let admin = try await issuer.issueAccessToken(tenantID: "tenant-a", userID: "user-2", role: .admin)
        _ = try await client.unaryCall(Grpc_Testing_SimpleRequest(), metadata: bearerMetadata(admin.token))

        let health = Grpc_Health_V1_Health.Client(RPCClient(transport: transport))
        let status = try await health.check(Grpc_Health_V1_HealthCheckRequest())
        #expect(status.status == .serving)
        let withBadToken = try await health.check(Grpc_Health_V1_HealthCheckRequest(), metadata: bearerMetadata("x"))
        #expect(withBadToken.status == .serving)

        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
