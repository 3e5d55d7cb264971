import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity

/// UserService: users of the caller's tenant and API keys.
struct UserHandler: Agentplane_V1_UserService.ServiceProtocol {
    let context: ControlContext
    static let maximumActiveKeys = 50
    /// The longest lifetime CreateApiKey grants (`ttl`); longer asks are INVALID_ARGUMENT.
    static let maximumAPIKeyTTL: Duration = .seconds(3650 * 86400)

    func createUser(request: Agentplane_V1_CreateUserRequest, context server: ServerContext) async throws
        -> Agentplane_V1_CreateUserResponse
    {
        let caller = try AuthContext.require(minimum: .admin)
        let email = try RPCErrors.email(request.email)
        try RPCErrors.password(request.password)
        if request.displayName.count > 200 {
            throw RPCErrors.invalid("display_name", "TOO_LONG", "display_name must be at most 200 characters")
        }
        let roles = try RoleMapping.requestedRoles(request.roles)
        if roles.contains(.owner), caller.role != .owner {
            throw RPCError(code: .permissionDenied, message: "granting the owner role requires an owner")
        }
        let hash = try await PasswordHasher.hash(request.password, gate: context.passwordHashing)
        let user: StoredUser
        do {
            user = try await context.transaction(tenant: caller.tenantID) { session in
                try await UserStore(session: session, tenant: caller.tenantID).insert(
                    id: UUID().uuidString.lowercased(), email: email, displayName: request.displayName, roles: roles,
                    passwordHash: hash, temporary: true)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw RPCError(
                code: .alreadyExists, message: "a user with email \(ClientInput.excerpt(email)) exists in this tenant")
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "user.created", subject: user.user.id, actor: caller.userID)
        var response = Agentplane_V1_CreateUserResponse()
        response.user = user.user
        return response
    }

    func getUser(request: Agentplane_V1_GetUserRequest, context server: ServerContext) async throws
        -> Agentplane_V1_GetUserResponse
    {
        let caller = try AuthContext.require(minimum: .member)
        if request.userID.isEmpty { throw RPCErrors.invalid("user_id", "MISSING_FIELD", "user_id is required") }
        let user = try await context.transaction(tenant: caller.tenantID) { session in
            try await UserStore(session: session, tenant: caller.tenantID).user(id: request.userID)
        }
        // Existence is checked first: another tenant's id is NOT_FOUND for everyone.
        guard let user else { throw RPCErrors.notFound("user", request.userID) }
        if user.user.id != caller.effectiveUserID, !caller.role.satisfies(.admin) {
            throw RPCError(code: .permissionDenied, message: "reading another user requires role admin or above")
        }
        var response = Agentplane_V1_GetUserResponse()
        response.user = user.user
        return response
    }

    func listUsers(request: Agentplane_V1_ListUsersRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ListUsersResponse
    {
        let caller = try AuthContext.require(minimum: .admin)
        let limit = try Pagination.pageSize(request.pageSize)
        let role: Role? = request.role == .unspecified ? nil : RoleMapping.role(request.role)
        let filters = "users|\(request.role.rawValue)|\(request.query)"
        let after = try Pagination.cursor(from: request.pageToken, filters: filters)?.first
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            try await UserStore(session: session, tenant: caller.tenantID).list(
                role: role, query: request.query, afterEmail: after, limit: limit)
        }
        var response = Agentplane_V1_ListUsersResponse()
        response.users = rows.prefix(limit).map(\.user)
        if rows.count > limit, let last = response.users.last {
            response.nextPageToken = Pagination.token(cursor: [last.email], filters: filters)
        }
        return response
    }

    func updateUserRoles(request: Agentplane_V1_UpdateUserRolesRequest, context server: ServerContext) async throws
        -> Agentplane_V1_UpdateUserRolesResponse
    {
        let caller = try AuthContext.require(minimum: .admin)
        if request.userID.isEmpty { throw RPCErrors.invalid("user_id", "MISSING_FIELD", "user_id is required") }
        let roles = try RoleMapping.requestedRoles(request.roles)
        let user = try await context.transaction(tenant: caller.tenantID) { session -> StoredUser in
            let users = UserStore(session: session, tenant: caller.tenantID)
            let owners = try await users.ownerIDs()
            guard let current = try await users.user(id: request.userID, locking: true) else {
                throw RPCErrors.notFound("user", request.userID)
            }
            let wasOwner = current.roles.contains(.owner)
            let isOwner = roles.contains(.owner)
            if wasOwner != isOwner, caller.role != .owner {
                throw RPCError(code: .permissionDenied, message: "adding or removing the owner role requires an owner")
            }
            if wasOwner, !isOwner, owners.count <= 1 {
                throw RPCError(code: .failedPrecondition, message: "the tenant would be left without an owner")
            }
            guard let updated = try await users.setRoles(id: request.userID, roles: roles) else {
                throw RPCErrors.notFound("user", request.userID)
            }
            return updated
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "user.roles_updated", subject: user.user.id, actor: caller.userID,
            fields: ["roles": RoleMapping.encode(user.roles)])
        var response = Agentplane_V1_UpdateUserRolesResponse()
        response.user = user.user
        return response
    }

    func deleteUser(request: Agentplane_V1_DeleteUserRequest, context server: ServerContext) async throws
        -> Agentplane_V1_DeleteUserResponse
    {
        let caller = try AuthContext.require(minimum: .admin)
        if request.userID.isEmpty { throw RPCErrors.invalid("user_id", "MISSING_FIELD", "user_id is required") }
        let revoked = try await context.transaction(tenant: caller.tenantID) { session -> [SessionAccessToken] in
            let users = UserStore(session: session, tenant: caller.tenantID)
            let owners = try await users.ownerIDs()
            guard let user = try await users.user(id: request.userID, locking: true) else {
                throw RPCErrors.notFound("user", request.userID)
            }
            if user.user.id == caller.effectiveUserID {
                throw RPCError(code: .failedPrecondition, message: "you cannot delete yourself")
            }
            if user.roles.contains(.owner) {
                if caller.role != .owner {
                    throw RPCError(code: .permissionDenied, message: "deleting an owner requires an owner")
                }
                if owners.count <= 1 {
                    throw RPCError(code: .failedPrecondition, message: "the last owner cannot be deleted")
                }
            }
            try await APIKeyStore(session: session, tenant: caller.tenantID).revokeAll(owner: user.user.id)
            let tokens = try await SessionStore(session: session, tenant: caller.tenantID).revokeAll(
                userID: user.user.id)
            try await users.delete(id: user.user.id)
            return tokens
        }
        try await context.denylist(revoked)
        await context.events.publish(
            tenant: caller.tenantID, type: "user.deleted", subject: request.userID, actor: caller.userID)
        return Agentplane_V1_DeleteUserResponse()
    }

    func createApiKey(request: Agentplane_V1_CreateApiKeyRequest, context server: ServerContext) async throws
        -> Agentplane_V1_CreateApiKeyResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        if caller.kind != .user {
            throw RPCError(code: .permissionDenied, message: "API keys can only be created with a user's access token")
        }
        try RPCErrors.requireText(request.name, field: "name")
        let roles = try RoleMapping.requestedRoles(request.roles)
        if let above = roles.first(where: { !caller.role.satisfies($0) }) {
            throw RPCError(
                code: .permissionDenied, message: "role \(above) is above your own role \(caller.role)")
        }
        let ttl = request.ttl?.duration ?? .zero
        if ttl < .zero { throw RPCErrors.invalid("ttl", "NEGATIVE", "ttl must be 0 (never expires) or positive") }
        if ttl > Self.maximumAPIKeyTTL {
            throw RPCErrors.invalid("ttl", "OUT_OF_RANGE", "ttl must be at most 3650 days (0: never expires)")
        }
        let expiresAt = ttl == .zero ? nil : Date().addingTimeInterval(Double(ttl.components.seconds))
        let credential = OpaqueCredential.generate(kind: OpaqueCredential.apiKeyPrefix, tenantID: caller.tenantID)
        let key = try await context.transaction(tenant: caller.tenantID) { session -> StoredAPIKey in
            guard
                try await UserStore(session: session, tenant: caller.tenantID).user(id: caller.userID, locking: true)
                    != nil
            else { throw RPCError(code: .permissionDenied, message: "API keys belong to users of this tenant") }
            let keys = APIKeyStore(session: session, tenant: caller.tenantID)
            if try await keys.activeCount(owner: caller.userID) >= Self.maximumActiveKeys {
                throw RPCError(
                    code: .resourceExhausted,
                    message: "you have \(Self.maximumActiveKeys) active API keys; revoke one first")
            }
            return try await keys.insert(
                id: UUID().uuidString.lowercased(), owner: caller.userID, name: request.name,
                prefix: credential.displayPrefix, hash: credential.hash, roles: roles, expiresAt: expiresAt)
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "api_key.created", subject: key.key.id, actor: caller.userID)
        var response = Agentplane_V1_CreateApiKeyResponse()
        response.apiKey = key.key
        response.secret = credential.text
        return response
    }

    func listApiKeys(request: Agentplane_V1_ListApiKeysRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ListApiKeysResponse
    {
        let caller = try AuthContext.require(minimum: .member)
        if request.allUsers, !caller.role.satisfies(.admin) {
            throw RPCError(code: .permissionDenied, message: "all_users requires role admin or above")
        }
        let limit = try Pagination.pageSize(request.pageSize)
        let filters = "keys|\(request.allUsers)|\(request.includeRevoked)"
        let before = try Pagination.cursor(from: request.pageToken, filters: filters)?.first.flatMap { Int64($0) }
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            try await APIKeyStore(session: session, tenant: caller.tenantID).list(
                owner: request.allUsers ? nil : caller.effectiveUserID, includeRevoked: request.includeRevoked,
                before: before, limit: limit)
        }
        var response = Agentplane_V1_ListApiKeysResponse()
        response.apiKeys = rows.prefix(limit).map(\.key)
        if rows.count > limit {
            response.nextPageToken = Pagination.token(cursor: [String(rows[limit - 1].seq)], filters: filters)
        }
        return response
    }

    func revokeApiKey(request: Agentplane_V1_RevokeApiKeyRequest, context server: ServerContext) async throws
        -> Agentplane_V1_RevokeApiKeyResponse
    {
        let caller = try AuthContext.require(minimum: .member)
        if request.apiKeyID.isEmpty {
            throw RPCErrors.invalid("api_key_id", "MISSING_FIELD", "api_key_id is required")
        }
        let key = try await context.transaction(tenant: caller.tenantID) { session -> StoredAPIKey in
            let keys = APIKeyStore(session: session, tenant: caller.tenantID)
            guard let key = try await keys.key(id: request.apiKeyID) else {
                throw RPCErrors.notFound("API key", request.apiKeyID)
            }
            if key.key.ownerUserID != caller.effectiveUserID, !caller.role.satisfies(.admin) {
                throw RPCError(code: .permissionDenied, message: "revoking another user's key requires role admin")
            }
            try await keys.revoke(id: key.key.id)
            return try await keys.key(id: key.key.id) ?? key
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "api_key.revoked", subject: key.key.id, actor: caller.userID)
        var response = Agentplane_V1_RevokeApiKeyResponse()
        response.apiKey = key.key
        return response
    }
}
