import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import ServiceTestSupport
import Testing

@Suite("Control API keys")
struct APIKeyTests {
    @Test func createUseAndRevokeAtOnce() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        var request = Agentplane_V1_CreateApiKeyRequest()
        request.name = "ci"
        request.roles = [.builder]
        let created = try await fixture.users.createApiKey(request, metadata: builder.metadata)
        let key = try #require(created.apiKey)
        #expect(created.secret.hasPrefix("apk_"))
        #expect(created.secret.hasPrefix(key.prefix))
        #expect(key.ownerUserID == builder.id)
        #expect(key.roles == [.builder])

        // Listed without the secret.
        let listed = try await fixture.users.listApiKeys(.init(), metadata: builder.metadata)
        #expect(listed.apiKeys.map(\.id) == [key.id])

        let apiKey = bearerMetadata(created.secret)
        let who = try await fixture.auth.whoAmI(.init(), metadata: apiKey)
        #expect(who.principalKind == .apiKey)
        #expect(who.apiKey?.id == key.id)
        #expect(who.user?.id == builder.id)
        #expect(who.roles == [.builder])
        var agent = Agentplane_V1_CreateAgentRequest()
        agent.name = "made-with-a-key"
        agent.flowJSON = validFlow
        #expect(await statusCode { try await fixture.agents.createAgent(agent, metadata: apiKey) } == .ok)

        var revoke = Agentplane_V1_RevokeApiKeyRequest()
        revoke.apiKeyID = key.id
        let revoked = try await fixture.users.revokeApiKey(revoke, metadata: builder.metadata)
        #expect(revoked.apiKey?.revokedAt != nil)
        #expect(await statusCode { try await fixture.auth.whoAmI(.init(), metadata: apiKey) } == .unauthenticated)
        #expect(await statusCode { try await fixture.agents.listAgents(.init(), metadata: apiKey) } == .unauthenticated)
        // Idempotent.
        let again = try await fixture.users.revokeApiKey(revoke, metadata: builder.metadata)
        #expect(again.apiKey?.revokedAt == revoked.apiKey?.revokedAt)
        #expect(try await fixture.users.listApiKeys(.init(), metadata: builder.metadata).apiKeys.isEmpty)
        var withRevoked = Agentplane_V1_ListApiKeysRequest()
        withRevoked.includeRevoked = true
        #expect(try await fixture.users.listApiKeys(withRevoked, metadata: builder.metadata).apiKeys.count == 1)
        try await fixture.stop()
    }

    @Test func keysAreScopedToTheirRole() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let admin = try await fixture.user(.admin, in: tenant)
        var request = Agentplane_V1_CreateApiKeyRequest()
        request.name = "read-only"
        request.roles = [.member]
        let created = try await fixture.users.createApiKey(request, metadata: admin.metadata)
        let apiKey = bearerMetadata(created.secret)
        // A member key of an admin cannot write agents nor list users.
        var agent = Agentplane_V1_CreateAgentRequest()
        agent.name = "nope"
        agent.flowJSON = validFlow
        #expect(await statusCode { try await fixture.agents.createAgent(agent, metadata: apiKey) } == .permissionDenied)
        #expect(await statusCode { try await fixture.users.listUsers(.init(), metadata: apiKey) } == .permissionDenied)
        #expect(await statusCode { try await fixture.agents.listAgents(.init(), metadata: apiKey) } == .ok)
        // An API key cannot mint keys, and no one can mint a key above their role.
        var nested = request
        nested.name = "nested"
        #expect(
            await statusCode { try await fixture.users.createApiKey(nested, metadata: apiKey) } == .permissionDenied)
        var higher = request
        higher.roles = [.owner]
        #expect(
            await statusCode { try await fixture.users.createApiKey(higher, metadata: admin.metadata) }
                == .permissionDenied)
        // Logout needs a session.
        #expect(await statusCode { try await fixture.auth.logout(.init(), metadata: apiKey) } == .failedPrecondition)
        try await fixture.stop()
    }

    @Test func badKeyRequestsAndOtherUsersKeys() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        let other = try await fixture.user(.builder, in: tenant)
        let owner = try await fixture.ownerMetadata(tenant)
        var request = Agentplane_V1_CreateApiKeyRequest()
        request.roles = [.member]
        #expect(
            await statusCode { try await fixture.users.createApiKey(request, metadata: builder.metadata) }
                == .invalidArgument)
        request.name = "k"
        request.roles = []
        #expect(
            await statusCode { try await fixture.users.createApiKey(request, metadata: builder.metadata) }
                == .invalidArgument)
        request.roles = [.service]
        #expect(
            await statusCode { try await fixture.users.createApiKey(request, metadata: builder.metadata) }
                == .invalidArgument)
        request.roles = [.member]
        let key = try #require(try await fixture.users.createApiKey(request, metadata: builder.metadata).apiKey)
        var revoke = Agentplane_V1_RevokeApiKeyRequest()
        revoke.apiKeyID = key.id
        #expect(
            await statusCode { try await fixture.users.revokeApiKey(revoke, metadata: other.metadata) }
                == .permissionDenied)
        var all = Agentplane_V1_ListApiKeysRequest()
        all.allUsers = true
        #expect(
            await statusCode { try await fixture.users.listApiKeys(all, metadata: other.metadata) } == .permissionDenied
        )
        #expect(try await fixture.users.listApiKeys(all, metadata: owner).apiKeys.map(\.id) == [key.id])
        #expect(await statusCode { try await fixture.users.revokeApiKey(revoke, metadata: owner) } == .ok)
        revoke.apiKeyID = "no-such-key"
        #expect(await statusCode { try await fixture.users.revokeApiKey(revoke, metadata: owner) } == .notFound)
        try await fixture.stop()
    }

    @Test func deletingTheOwnerRevokesTheirKeys() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        var request = Agentplane_V1_CreateApiKeyRequest()
        request.name = "soon gone"
        request.roles = [.builder]
        let secret = try await fixture.users.createApiKey(request, metadata: builder.metadata).secret
        #expect(await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(secret)) } == .ok)
        var delete = Agentplane_V1_DeleteUserRequest()
        delete.userID = builder.id
        _ = try await fixture.users.deleteUser(delete, metadata: try await fixture.ownerMetadata(tenant))
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(secret)) }
                == .unauthenticated)
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: builder.metadata) } == .unauthenticated)
        try await fixture.stop()
    }

    @Test func demotingTheOwnerDemotesTheirKeys() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        var request = Agentplane_V1_CreateApiKeyRequest()
        request.name = "writer"
        request.roles = [.builder]
        let secret = try await fixture.users.createApiKey(request, metadata: builder.metadata).secret
        var agent = Agentplane_V1_CreateAgentRequest()
        agent.name = "by-key"
        agent.flowJSON = validFlow
        #expect(
            await statusCode { try await fixture.agents.createAgent(agent, metadata: bearerMetadata(secret)) } == .ok)
        var demote = Agentplane_V1_UpdateUserRolesRequest()
        demote.userID = builder.id
        demote.roles = [.member]
        _ = try await fixture.users.updateUserRoles(demote, metadata: try await fixture.ownerMetadata(tenant))
        agent.name = "by-key-2"
        #expect(
            await statusCode { try await fixture.agents.createAgent(agent, metadata: bearerMetadata(secret)) }
                == .permissionDenied)
        try await fixture.stop()
    }
}
