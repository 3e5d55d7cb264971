import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import ServiceTestSupport

/// The platform bootstrap token the tests configure.
let bootstrapToken = "test-bootstrap-token-0123456789abcdef"

/// A control plane run in-process, with typed clients of its services.
struct ControlFixture: Sendable {
    let harness: ServiceTestHarness
    let auth: Agentplane_V1_AuthService.Client
    let tenants: Agentplane_V1_TenantService.Client
    let users: Agentplane_V1_UserService.Client
    let agents: Agentplane_V1_AgentService.Client
    var tools: Agentplane_V1_ToolService.Client { .init(harness.client) }
    var conversations: Agentplane_V1_ConversationService.Client { .init(harness.client) }
    var documents: Agentplane_V1_DocumentService.Client { .init(harness.client) }

    /// Starts the service; `environment` adds or overrides keys. The per-address limits (failed
    /// logins, failed credential lookups) are raised so parallel tests from 127.0.0.1 never
    /// throttle each other.
    static func start(_ environment: [String: String] = [:]) async throws -> ControlFixture {
        let harness = try await ServiceTestHarness.start(
            ControlService.definition,
            environment: [
                "PLATFORM_BOOTSTRAP_TOKEN": bootstrapToken, "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
                "CREDENTIAL_FAILURES_PER_ADDRESS": "1000000",
            ].merging(environment) { $1 })
        return ControlFixture(
            harness: harness, auth: .init(harness.client), tenants: .init(harness.client),
            users: .init(harness.client), agents: .init(harness.client))
    }

    func stop() async throws {
        try await harness.stop()
    }

    /// A fresh tenant with its owner, created through CreateTenant.
    func createTenant(owner email: String = "owner@example.com", password: String = "owner-password-123")
        async throws -> TestTenant
    {
        var request = Agentplane_V1_CreateTenantRequest()
        request.slug = uniqueSlug()
        request.ownerEmail = email
        request.ownerPassword = password
        let response = try await tenants.createTenant(
            request, metadata: ["authorization": .string("Bearer \(bootstrapToken)")])
        return TestTenant(
            id: response.tenant?.id ?? "", slug: request.slug, ownerID: response.owner?.id ?? "", ownerEmail: email,
            ownerPassword: password)
    }

    /// Logs in; the response.
    func login(_ slug: String, _ email: String, _ password: String) async throws -> Agentplane_V1_LoginResponse {
        var request = Agentplane_V1_LoginRequest()
        request.tenantSlug = slug
        request.email = email
        request.password = password
        return try await auth.login(request)
    }

    /// A user with `role` in `tenant`, logged in: its id and bearer metadata.
    func user(_ role: Role, in tenant: TestTenant) async throws -> (id: String, metadata: Metadata) {
        let owner = try await ownerMetadata(tenant)
        if role == .owner { return (tenant.ownerID, owner) }
        var request = Agentplane_V1_CreateUserRequest()
        request.email = "\(role.rawValue)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        request.password = "user-password-1234"
        request.roles = [protoRole(role)]
        let created = try await users.createUser(request, metadata: owner)
        let login = try await self.login(tenant.slug, request.email, request.password)
        return (created.user?.id ?? "", bearerMetadata(login.tokens?.accessToken ?? ""))
    }

    func ownerMetadata(_ tenant: TestTenant) async throws -> Metadata {
        let login = try await self.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword)
        return bearerMetadata(login.tokens?.accessToken ?? "")
    }
}

/// A tenant the tests created.
struct TestTenant {
    let id: String
    let slug: String
    let ownerID: String
    let ownerEmail: String
    let ownerPassword: String
}

func bearerMetadata(_ token: String) -> Metadata {
    ["authorization": .string("Bearer \(token)")]
}

func uniqueSlug() -> String {
    "t-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
}

/// The contract's role for the runtime's.
func protoRole(_ role: Role) -> Agentplane_V1_Role {
    switch role {
    case .owner: .owner
    case .admin: .admin
    case .builder: .builder
    case .member: .member
    case .service: .service
    }
}

/// A flow that validates.
let validFlow = #"""
    {"entry": "s", "nodes": [{"id": "s", "kind": "set", "values": {"answer": "x"}, "next": "e"},
                             {"id": "e", "kind": "end"}]}
    """#

/// A flow with two errors: an unknown entry node and an unknown node kind.
let invalidFlow = #"{"entry": "missing", "nodes": [{"id": "s", "kind": "bogus"}]}"#
