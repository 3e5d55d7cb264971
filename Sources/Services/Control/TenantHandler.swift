import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity

/// TenantService: CreateTenant (platform bootstrap token), GetTenant, UpdateTenantSettings.
struct TenantHandler: Agentplane_V1_TenantService.ServiceProtocol {
    let context: ControlContext

    func createTenant(request: Agentplane_V1_CreateTenantRequest, context server: ServerContext) async throws
        -> Agentplane_V1_CreateTenantResponse
    {
        guard let expected = context.settings.bootstrapToken else {
            throw RPCError(
                code: .unauthenticated, message: "CreateTenant is disabled: PLATFORM_BOOTSTRAP_TOKEN is not configured")
        }
        let header = server.metadata.firstString(forKey: "authorization") ?? ""
        let presented = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        guard
            PasswordHasher.constantTimeEqual(
                Array(OpaqueCredential.sha256Hex(presented).utf8),
                Array(OpaqueCredential.sha256Hex(expected.reveal()).utf8))
        else { throw RPCError(code: .unauthenticated, message: "missing or wrong platform bootstrap token") }
        let (tenant, owner) = try await TenantProvisioning.create(
            request, postgres: context.postgres, existing: .fail)
        await context.events.publish(tenant: tenant.id, type: "tenant.created", subject: tenant.id, actor: "platform")
        var response = Agentplane_V1_CreateTenantResponse()
        response.tenant = tenant
        response.owner = owner
        return response
    }

    func getTenant(request: Agentplane_V1_GetTenantRequest, context server: ServerContext) async throws
        -> Agentplane_V1_GetTenantResponse
    {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        guard let tenant = try await context.tenants({ try await $0.tenant(id: caller.tenantID) }) else {
            throw RPCErrors.notFound("tenant", caller.tenantID)
        }
        var response = Agentplane_V1_GetTenantResponse()
        response.tenant = tenant
        return response
    }

    func updateTenantSettings(request: Agentplane_V1_UpdateTenantSettingsRequest, context server: ServerContext)
        async throws -> Agentplane_V1_UpdateTenantSettingsResponse
    {
        let caller = try AuthContext.require(minimum: .admin)
        let settings = request.settings ?? .init()
        try TenantProvisioning.check(settings)
        if request.displayName.count > 200 {
            throw RPCErrors.invalid("display_name", "TOO_LONG", "display_name must be at most 200 characters")
        }
        let tenant = try await context.tenants { store -> Agentplane_V1_Tenant in
            guard let current = try await store.tenant(id: caller.tenantID) else {
                throw RPCErrors.notFound("tenant", caller.tenantID)
            }
            let name = request.displayName.isEmpty ? current.displayName : request.displayName
            guard
                let updated = try await store.update(
                    id: caller.tenantID, displayName: name, settings: settings,
                    expectedRevision: request.expectedRevision)
            else {
                throw RPCError(
                    code: .aborted,
                    message: "expected_revision \(request.expectedRevision) is not the current revision "
                        + "\(current.revision); read the tenant again")
            }
            return updated
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "tenant.settings_updated", subject: caller.tenantID, actor: caller.userID)
        var response = Agentplane_V1_UpdateTenantSettingsResponse()
        response.tenant = tenant
        return response
    }
}

/// Creating a tenant with its owner in one transaction: for CreateTenant and the start-up bootstrap.
enum TenantProvisioning {
    /// What to do when the slug is taken.
    enum Existing { case fail, keep }

    static func checkSlug(_ slug: String) throws {
        let allowed = slug.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
        }
        guard (2...63).contains(slug.count), allowed, slug.first != "-" else {
            throw RPCErrors.invalid(
                "slug", "INVALID_SLUG", "slug must match ^[a-z0-9][a-z0-9-]{1,62}$ (lower-case letters, digits, dashes)"
            )
        }
    }

    static func check(_ settings: Agentplane_V1_TenantSettings) throws {
        if settings.maxDocumentBytes < 0 {
            throw RPCErrors.invalid("settings.max_document_bytes", "OUT_OF_RANGE", "must be 0 (default) or positive")
        }
        if settings.maxRunSteps < 0 {
            throw RPCErrors.invalid("settings.max_run_steps", "OUT_OF_RANGE", "must be 0 (default) or positive")
        }
        for (field, value) in [
            ("max_run_state_bytes", settings.maxRunStateBytes), ("max_node_output_bytes", settings.maxNodeOutputBytes),
            ("max_event_bytes", settings.maxEventBytes),
        ] where value < 0 {
            // A value above the platform's maximum is kept: the execution service applies the lower.
            throw RPCErrors.invalid("settings.\(field)", "OUT_OF_RANGE", "must be 0 (the platform's) or positive")
        }
        if let retention = settings.conversationRetention, retention.duration < .zero {
            throw RPCErrors.invalid("settings.conversation_retention", "OUT_OF_RANGE", "must not be negative")
        }
        if let duration = settings.maxRunDuration, duration.duration < .zero {
            throw RPCErrors.invalid("settings.max_run_duration", "OUT_OF_RANGE", "must not be negative")
        }
        if !settings.timeZone.isEmpty, TimeZone(identifier: settings.timeZone) == nil {
            throw RPCErrors.invalid("settings.time_zone", "UNKNOWN_TIME_ZONE", "use an IANA zone like Europe/Berlin")
        }
    }

    /// The tenant and its owner; with `.keep`, an existing slug returns that tenant (owner absent).
    static func create(_ request: Agentplane_V1_CreateTenantRequest, postgres: PostgresPool, existing: Existing)
        async throws -> (Agentplane_V1_Tenant, Agentplane_V1_User?)
    {
        try checkSlug(request.slug)
        let email = try RPCErrors.email(request.ownerEmail, field: "owner_email")
        try RPCErrors.password(request.ownerPassword, field: "owner_password")
        if request.displayName.count > 200 {
            throw RPCErrors.invalid("display_name", "TOO_LONG", "display_name must be at most 200 characters")
        }
        if request.ownerDisplayName.count > 200 {
            throw RPCErrors.invalid(
                "owner_display_name", "TOO_LONG", "owner_display_name must be at most 200 characters")
        }
        let settings = request.settings ?? .init()
        try check(settings)
        let hash = try await PasswordHasher.hash(request.ownerPassword)
        let tenantID = UUID().uuidString.lowercased()
        do {
            return try await postgres.transaction(tenant: tenantID) { session in
                let tenant = try await TenantStore(session: session).insert(
                    id: tenantID, slug: request.slug,
                    displayName: request.displayName.isEmpty ? request.slug : request.displayName, settings: settings)
                let owner = try await UserStore(session: session, tenant: tenantID).insert(
                    id: UUID().uuidString.lowercased(), email: email, displayName: request.ownerDisplayName,
                    roles: [.owner], passwordHash: hash)
                return (tenant, owner.user)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            if existing == .keep,
                let tenant = try await postgres.transaction({
                    try await TenantStore(session: $0).tenant(slug: request.slug)
                })
            {
                return (tenant, nil)
            }
            throw RPCError(code: .alreadyExists, message: "tenant slug \(ClientInput.excerpt(request.slug)) is taken")
        }
    }
}
