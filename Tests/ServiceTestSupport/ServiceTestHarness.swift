import Foundation
import FoundationNetworking
public import RPCCore
import RPCHTTP2
public import Runtime
import RuntimePostgres
public import RuntimeSecurity

/// The test PostgreSQL (`scripts/infra start`), or DATABASE_URL.
public let testDatabaseURL =
    ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:55432/postgres"
/// The test Redis, or REDIS_URL.
public let testRedisURL = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"
/// The JWT secret services under test run with.
public let testJWTSecret = "service-tests-secret-0123456789-abcdefghijklmnop"

/// The five keys every service needs (ports 0: free ones), on loopback.
public func minimalServiceEnvironment(port: Int = 0, adminPort: Int = 0) -> [String: String] {
    [
        "PORT": String(port), "ADMIN_PORT": String(adminPort), "DATABASE_URL": testDatabaseURL,
        "REDIS_URL": testRedisURL, "JWT_SECRET": testJWTSecret, "HOST": "127.0.0.1",
    ]
}

/// `authorization` metadata with a user access token signed with `testJWTSecret`.
public func bearer(role: Role = .member, tenant: String = "tenant-test", user: String = "user-1") async throws
    -> Metadata
{
    let issued = try await TokenIssuer(secret: Array(testJWTSecret.utf8)).issueAccessToken(
        tenantID: tenant, userID: user, role: role, ttl: .seconds(600))
    return ["authorization": .string("Bearer \(issued.token)")]
}

/// `authorization` metadata with a service token, as the control plane sends on a tenant's behalf.
public func serviceBearer(service: String = "control", tenant: String = "tenant-test", actingUser: String = "user-1")
    async throws -> Metadata
{
    let issued = try await TokenIssuer(secret: Array(testJWTSecret.utf8)).issueServiceToken(
        service: service, tenantID: tenant, actingUserID: actingUser, ttl: .seconds(600))
    return ["authorization": .string("Bearer \(issued.token)")]
}

/// GETs a path over HTTP/1.1 on loopback; the status and body.
public func httpGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw URLError(.badURL) }
    let (data, response) = try await URLSession.shared.data(from: url)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// A service run inside the test process by `ServiceHost`, as its executable runs it, with a
/// client connected to it.
public final class ServiceTestHarness: Sendable {
    /// The running service (ports, environment).
    public let service: RunningService
    /// A client of the service's gRPC port; wrap it in a generated `Client`.
    public let client: RPCClient
    private let transport: HTTP2ClientTransport
    private let running: Task<Void, any Error>

    private init(service: RunningService) {
        self.service = service
        self.transport = HTTP2ClientTransport(host: "127.0.0.1", port: service.grpcPort)
        self.client = RPCClient(transport: transport)
        self.running = Task { try await service.run() }
    }

    /// Starts `definition` with the minimal environment plus `environment` (which wins).
    public static func start(_ definition: ServiceDefinition, environment: [String: String] = [:]) async throws
        -> ServiceTestHarness
    {
        let service = try await ServiceHost.start(
            definition, environment: minimalServiceEnvironment().merging(environment) { $1 }, arguments: [])
        return ServiceTestHarness(service: service)
    }

    /// Drains and stops the service.
    public func stop() async throws {
        await transport.close()
        await service.shutdown()
        try await running.value
    }
}

/// A database of its own on the test cluster (created on first use), for tests that run a
/// service as a separate process: its background workers (a notification dispatcher, say)
/// then never pick up work that in-process tests of the same service queued in the shared
/// database.
public func isolatedDatabaseURL(named name: String) async throws -> String {
    let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
    defer { admin.close() }
    if try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", name).isEmpty {
        do {
            // A name cannot be a parameter; callers pass fixed identifiers.
            _ = try await admin.query("CREATE DATABASE \(name)")
        } catch let error as PostgresError where error.sqlState == "42P04" || error.sqlState == "23505" {
            // Created meanwhile by a test running in parallel.
        }
    }
    guard var components = URLComponents(string: testDatabaseURL) else { throw URLError(.badURL) }
    components.path = "/\(name)"
    return components.string ?? testDatabaseURL
}

/// The status a call ended with (`.ok` when it returned; nil for an error that is not an RPC
/// status).
public func statusCode<T>(_ call: () async throws -> T) async -> Status.Code? {
    do {
        _ = try await call()
        return .ok
    } catch let error as RPCError {
        return error.code
    } catch {
        return nil
    }
}

/// The RPCError a call failed with, if any.
public func rpcError<T>(_ call: () async throws -> T) async -> RPCError? {
    do {
        _ = try await call()
        return nil
    } catch {
        return error as? RPCError
    }
}
