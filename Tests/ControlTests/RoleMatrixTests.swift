import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import ServiceTestSupport
import Testing

@Suite("Control roles and tenant isolation")
struct RoleMatrixTests {
    /// One RPC of the matrix, and the roles it must refuse with PERMISSION_DENIED.
    struct Case: Sendable {
        let name: String
        let denied: Set<String>
        let call: @Sendable (ControlFixture, Metadata, String) async throws -> Void
    }

    static let humanBelowAdmin: Set<String> = ["builder", "member"]

    static let cases: [Case] =
        [
            Case(name: "WhoAmI", denied: []) { f, m, _ in _ = try await f.auth.whoAmI(.init(), metadata: m) },
            Case(name: "ChangePassword", denied: ["service"]) { f, m, _ in
                _ = try await f.auth.changePassword(.init(), metadata: m)
            },
            Case(name: "ResetPassword", denied: humanBelowAdmin.union(["service"])) { f, m, _ in
                var request = Agentplane_V1_ResetPasswordRequest()
                request.userID = "missing"
                request.password = "temporary-password"
                _ = try await f.users.resetPassword(request, metadata: m)
            },
            Case(name: "GetTenant", denied: []) { f, m, _ in _ = try await f.tenants.getTenant(.init(), metadata: m) },
            Case(name: "UpdateTenantSettings", denied: humanBelowAdmin.union(["service"])) { f, m, _ in
                _ = try await f.tenants.updateTenantSettings(.init(), metadata: m)
            },
            Case(name: "CreateUser", denied: humanBelowAdmin.union(["service"])) { f, m, _ in
                var request = Agentplane_V1_CreateUserRequest()
                request.email = "new-\(UUID().uuidString.prefix(8))@example.com"
                request.password = "new-user-password-1"
                request.roles = [.member]
                _ = try await f.users.createUser(request, metadata: m)
            },
            Case(name: "ListUsers", denied: humanBelowAdmin.union(["service"])) { f, m, _ in
                _ = try await f.users.listUsers(.init(), metadata: m)
            },
            Case(name: "GetUser(other)", denied: humanBelowAdmin.union(["service"])) { f, m, owner in
                var request = Agentplane_V1_GetUserRequest()
                request.userID = owner
                _ = try await f.users.getUser(request, metadata: m)
            },
            Case(name: "UpdateUserRoles", denied: humanBelowAdmin.union(["service"])) { f, m, _ in
                var request = Agentplane_V1_UpdateUserRolesRequest()
                request.userID = "missing"
                request.roles = [.member]
                _ = try await f.users.updateUserRoles(request, metadata: m)
            },
            Case(name: "DeleteUser", denied: humanBelowAdmin.union(["service"])) { f, m, _ in
                var request = Agentplane_V1_DeleteUserRequest()
                request.userID = "missing"
                _ = try await f.users.deleteUser(request, metadata: m)
            },
            Case(name: "CreateApiKey", denied: ["member", "service"]) { f, m, _ in
                var request = Agentplane_V1_CreateApiKeyRequest()
                request.name = "k"
                request.roles = [.member]
                _ = try await f.users.createApiKey(request, metadata: m)
            },
            Case(name: "ListApiKeys", denied: ["service"]) { f, m, _ in
                _ = try await f.users.listApiKeys(.init(), metadata: m)
            },
            Case(name: "CreateAgent", denied: ["member", "service"]) { f, m, _ in
                var request = Agentplane_V1_CreateAgentRequest()
                request.name = "agent-\(UUID().uuidString.prefix(8))"
                request.flowJSON = validFlow
                _ = try await f.agents.createAgent(request, metadata: m)
            },
            Case(name: "UpdateAgent", denied: ["member", "service"]) { f, m, _ in
                var request = Agentplane_V1_UpdateAgentRequest()
                request.agentID = "missing"
                request.name = "x"
                request.flowJSON = validFlow
                request.changeMessage = "m"
                _ = try await f.agents.updateAgent(request, metadata: m)
            },
            Case(name: "RollbackAgent", denied: ["member", "service"]) { f, m, _ in
                var request = Agentplane_V1_RollbackAgentRequest()
                request.agentID = "missing"
                request.toVersion = 1
                _ = try await f.agents.rollbackAgent(request, metadata: m)
            },
            Case(name: "DeleteAgent", denied: ["member", "service"]) { f, m, _ in
                var request = Agentplane_V1_DeleteAgentRequest()
                request.agentID = "missing"
                _ = try await f.agents.deleteAgent(request, metadata: m)
            },
            Case(name: "ValidateFlow", denied: ["member", "service"]) { f, m, _ in
                var request = Agentplane_V1_ValidateFlowRequest()
                request.flowJSON = validFlow
                _ = try await f.agents.validateFlow(request, metadata: m)
            },
            Case(name: "GetAgent", denied: []) { f, m, _ in
                var request = Agentplane_V1_GetAgentRequest()
                request.agentID = "missing"
                _ = try await f.agents.getAgent(request, metadata: m)
            },
            Case(name: "ListAgents", denied: []) { f, m, _ in _ = try await f.agents.listAgents(.init(), metadata: m) },
            Case(name: "ListAgentVersions", denied: []) { f, m, _ in
                var request = Agentplane_V1_ListAgentVersionsRequest()
                request.agentID = "missing"
                _ = try await f.agents.listAgentVersions(request, metadata: m)
            },
        ] + toolCases + conversationCases + documentCases

    static let toolCases: [Case] = [
        Case(name: "CreateTool", denied: ["member", "service"]) { f, m, _ in
            _ = try await f.tools.createTool(
                try toolRequest("tool-\(UUID().uuidString.prefix(8))", kind: .kbSearch), metadata: m)
        },
        Case(name: "UpdateTool", denied: ["member", "service"]) { f, m, _ in
            var request = Agentplane_V1_UpdateToolRequest()
            request.toolID = "missing"
            request.name = "renamed"
            _ = try await f.tools.updateTool(request, metadata: m)
        },
        Case(name: "DeleteTool", denied: ["member", "service"]) { f, m, _ in
            _ = try await f.tools.deleteTool(.init(toolID: "missing"), metadata: m)
        },
        Case(name: "GetTool", denied: []) { f, m, _ in
            _ = try await f.tools.getTool(.init(toolID: "missing"), metadata: m)
        },
        Case(name: "ListTools", denied: []) { f, m, _ in _ = try await f.tools.listTools(.init(), metadata: m) },
        Case(name: "ListToolKinds", denied: []) { f, m, _ in _ = try await f.tools.listToolKinds(.init(), metadata: m)
        },
        Case(name: "ExecuteTool", denied: ["member"]) { f, m, _ in
            var request = Agentplane_V1_ExecuteToolRequest()
            request.toolID = "missing"
            _ = try await f.tools.executeTool(request, metadata: m)
        },
    ]

    static let conversationCases: [Case] = [
        Case(name: "CreateConversation", denied: ["service"]) { f, m, _ in
            var request = Agentplane_V1_CreateConversationRequest()
            request.agentID = "missing"
            _ = try await f.conversations.createConversation(request, metadata: m)
        },
        Case(name: "GetConversation", denied: []) { f, m, _ in
            _ = try await f.conversations.getConversation(.init(conversationID: "missing"), metadata: m)
        },
        Case(name: "ListConversations", denied: []) { f, m, _ in
            _ = try await f.conversations.listConversations(.init(), metadata: m)
        },
        Case(name: "ListConversations(all_users)", denied: ["builder", "member"]) { f, m, _ in
            var request = Agentplane_V1_ListConversationsRequest()
            request.allUsers = true
            _ = try await f.conversations.listConversations(request, metadata: m)
        },
        Case(name: "ListMessages", denied: []) { f, m, _ in
            var request = Agentplane_V1_ListMessagesRequest()
            request.conversationID = "missing"
            _ = try await f.conversations.listMessages(request, metadata: m)
        },
        Case(name: "SendMessage", denied: ["service"]) { f, m, _ in
            var request = Agentplane_V1_SendMessageRequest()
            request.conversationID = "missing"
            request.content = "hello"
            try await f.conversations.sendMessage(request, metadata: m) { stream in for try await _ in stream {} }
        },
        Case(name: "ResumeConversation", denied: ["service"]) { f, m, _ in
            var request = Agentplane_V1_ResumeConversationRequest()
            request.conversationID = "missing"
            request.input = Agentplane_V1_HumanInput(interruptID: "int-1", text: "yes")
            try await f.conversations.resumeConversation(request, metadata: m) { stream in for try await _ in stream {}
            }
        },
        Case(name: "DeleteConversation", denied: ["service"]) { f, m, _ in
            _ = try await f.conversations.deleteConversation(.init(conversationID: "missing"), metadata: m)
        },
        Case(name: "AppendMessage", denied: ["owner", "admin", "builder", "member"]) { f, m, _ in
            var request = Agentplane_V1_AppendMessageRequest()
            request.conversationID = "missing"
            request.role = .assistant
            request.content = "answer"
            _ = try await f.conversations.appendMessage(request, metadata: m)
        },
    ]

    static let documentCases: [Case] = [
        Case(name: "UploadDocument", denied: ["member", "service"]) { f, m, _ in
            _ = try await f.documents.uploadDocument(metadata: m) { writer in
                var header = Agentplane_V1_UploadDocumentMetadata()
                header.name = "matrix.md"
                header.skipIndexing = true
                try await writer.write(.init(part: .metadata(header)))
                try await writer.write(.init(part: .chunk(Data("# Matrix".utf8))))
            }
        },
        Case(name: "DeleteDocument", denied: ["member", "service"]) { f, m, _ in
            _ = try await f.documents.deleteDocument(.init(documentID: "missing"), metadata: m)
        },
        Case(name: "GetDocument", denied: []) { f, m, _ in
            _ = try await f.documents.getDocument(.init(documentID: "missing"), metadata: m)
        },
        Case(name: "ListDocuments", denied: []) { f, m, _ in
            _ = try await f.documents.listDocuments(.init(), metadata: m)
        },
        Case(name: "DownloadDocument", denied: []) { f, m, _ in
            try await f.documents.downloadDocument(.init(documentID: "missing"), metadata: m) { stream in
                for try await _ in stream {}
            }
        },
    ]

    @Test func eachRoleIsDeniedExactlyWhereItShouldBe() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        var callers: [(String, Metadata)] = []
        for role in [Role.owner, .admin, .builder, .member] {
            callers.append((role.rawValue, try await fixture.user(role, in: tenant).metadata))
        }
        callers.append(("service", try await serviceBearer(service: "execution", tenant: tenant.id)))
        for testCase in Self.cases {
            for (role, metadata) in callers {
                let status = await statusCode { try await testCase.call(fixture, metadata, tenant.ownerID) }
                let denied = testCase.denied.contains(role)
                #expect(
                    (status == .permissionDenied) == denied,
                    "\(testCase.name) as \(role): \(String(describing: status))")
                #expect(status != .unauthenticated, "\(testCase.name) as \(role)")
            }
            #expect(await statusCode { try await testCase.call(fixture, [:], tenant.ownerID) } == .unauthenticated)
        }
        try await fixture.stop()
    }

    @Test func ownerOnlyRulesAndTheLastOwner() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let owner = try await fixture.ownerMetadata(tenant)
        let admin = try await fixture.user(.admin, in: tenant)
        var grant = Agentplane_V1_CreateUserRequest()
        grant.email = "second-owner@example.com"
        grant.password = "second-owner-pass"
        grant.roles = [.owner]
        #expect(
            await statusCode { try await fixture.users.createUser(grant, metadata: admin.metadata) }
                == .permissionDenied)
        var demote = Agentplane_V1_UpdateUserRolesRequest()
        demote.userID = tenant.ownerID
        demote.roles = [.admin]
        #expect(
            await statusCode { try await fixture.users.updateUserRoles(demote, metadata: admin.metadata) }
                == .permissionDenied)
        #expect(
            await statusCode { try await fixture.users.updateUserRoles(demote, metadata: owner) } == .failedPrecondition
        )
        var deleteSelf = Agentplane_V1_DeleteUserRequest()
        deleteSelf.userID = tenant.ownerID
        #expect(
            await statusCode { try await fixture.users.deleteUser(deleteSelf, metadata: owner) } == .failedPrecondition)
        // With a second owner, the first may step down.
        let second = try #require(try await fixture.users.createUser(grant, metadata: owner).user)
        #expect(second.roles == [.owner])
        let demoted = try await fixture.users.updateUserRoles(demote, metadata: owner)
        #expect(demoted.user?.roles == [.admin])
        // Anyone may read themself.
        let member = try await fixture.user(.member, in: tenant)
        var readSelf = Agentplane_V1_GetUserRequest()
        readSelf.userID = member.id
        #expect(try await fixture.users.getUser(readSelf, metadata: member.metadata).user?.roles == [.member])
        // Bad input.
        var empty = Agentplane_V1_UpdateUserRolesRequest()
        empty.userID = second.id
        #expect(
            await statusCode { try await fixture.users.updateUserRoles(empty, metadata: owner) } == .invalidArgument)
        var duplicate = grant
        duplicate.roles = [.member]
        #expect(await statusCode { try await fixture.users.createUser(duplicate, metadata: owner) } == .alreadyExists)
        try await fixture.stop()
    }

    @Test func anotherTenantsIDsAreNotFoundAndNothingChanges() async throws {
        let fixture = try await ControlFixture.start()
        let tenantA = try await fixture.createTenant()
        let tenantB = try await fixture.createTenant()
        let ownerA = try await fixture.ownerMetadata(tenantA)
        let ownerB = try await fixture.ownerMetadata(tenantB)
        let builderA = try await fixture.user(.builder, in: tenantA)

        var create = Agentplane_V1_CreateAgentRequest()
        create.name = "a-secret-agent"
        create.flowJSON = validFlow
        let agent = try #require(try await fixture.agents.createAgent(create, metadata: ownerA).agent)
        var keyRequest = Agentplane_V1_CreateApiKeyRequest()
        keyRequest.name = "a key"
        keyRequest.roles = [.builder]
        let key = try await fixture.users.createApiKey(keyRequest, metadata: builderA.metadata)

        var get = Agentplane_V1_GetAgentRequest()
        get.agentID = agent.id
        #expect(await statusCode { try await fixture.agents.getAgent(get, metadata: ownerB) } == .notFound)
        var update = Agentplane_V1_UpdateAgentRequest()
        update.agentID = agent.id
        update.name = "hijacked"
        update.flowJSON = validFlow
        update.changeMessage = "mine now"
        #expect(await statusCode { try await fixture.agents.updateAgent(update, metadata: ownerB) } == .notFound)
        var versions = Agentplane_V1_ListAgentVersionsRequest()
        versions.agentID = agent.id
        #expect(
            await statusCode { try await fixture.agents.listAgentVersions(versions, metadata: ownerB) } == .notFound)
        var rollback = Agentplane_V1_RollbackAgentRequest()
        rollback.agentID = agent.id
        rollback.toVersion = 1
        #expect(await statusCode { try await fixture.agents.rollbackAgent(rollback, metadata: ownerB) } == .notFound)
        var delete = Agentplane_V1_DeleteAgentRequest()
        delete.agentID = agent.id
        #expect(await statusCode { try await fixture.agents.deleteAgent(delete, metadata: ownerB) } == .notFound)
        #expect(try await fixture.agents.listAgents(.init(), metadata: ownerB).agents.isEmpty)

        var getUser = Agentplane_V1_GetUserRequest()
        getUser.userID = builderA.id
        #expect(await statusCode { try await fixture.users.getUser(getUser, metadata: ownerB) } == .notFound)
        var roles = Agentplane_V1_UpdateUserRolesRequest()
        roles.userID = builderA.id
        roles.roles = [.member]
        #expect(await statusCode { try await fixture.users.updateUserRoles(roles, metadata: ownerB) } == .notFound)
        var deleteUser = Agentplane_V1_DeleteUserRequest()
        deleteUser.userID = builderA.id
        #expect(await statusCode { try await fixture.users.deleteUser(deleteUser, metadata: ownerB) } == .notFound)
        var revoke = Agentplane_V1_RevokeApiKeyRequest()
        revoke.apiKeyID = try #require(key.apiKey?.id)
        #expect(await statusCode { try await fixture.users.revokeApiKey(revoke, metadata: ownerB) } == .notFound)
        let usersOfB = try await fixture.users.listUsers(.init(), metadata: ownerB).users
        #expect(usersOfB.map(\.id) == [tenantB.ownerID])
        var allKeys = Agentplane_V1_ListApiKeysRequest()
        allKeys.allUsers = true
        #expect(try await fixture.users.listApiKeys(allKeys, metadata: ownerB).apiKeys.isEmpty)

        // A's key with B's id swapped into its tenant part is not a key of B.
        let parts = key.secret.split(separator: ".")
        let forged =
            parts[0] + "."
            + Data(tenantB.id.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(String(forged))) }
                == .unauthenticated)

        // Tenant A is unchanged.
        let still = try #require(try await fixture.agents.getAgent(get, metadata: ownerA).agent)
        #expect(still.latestVersion == 1 && still.name == "a-secret-agent")
        let user = try await fixture.users.getUser(getUser, metadata: ownerA).user
        #expect(user?.roles == [.builder])
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(key.secret)) } == .ok)
        try await fixture.stop()
    }

    @Test func anotherTenantsToolsConversationsAndDocumentsAreNotFound() async throws {
        let fixture = try await ControlFixture.start()
        let tenantA = try await fixture.createTenant()
        let tenantB = try await fixture.createTenant()
        let ownerA = try await fixture.ownerMetadata(tenantA)
        let ownerB = try await fixture.ownerMetadata(tenantB)
        let serviceB = try await serviceBearer(service: "execution", tenant: tenantB.id)

        let tool = try #require(
            try await fixture.tools.createTool(try toolRequest("a-tool", kind: .kbSearch), metadata: ownerA).tool)
        var createAgent = Agentplane_V1_CreateAgentRequest()
        createAgent.name = "a-agent"
        createAgent.flowJSON = validFlow
        let agent = try #require(try await fixture.agents.createAgent(createAgent, metadata: ownerA).agent)
        var createConversation = Agentplane_V1_CreateConversationRequest()
        createConversation.agentID = agent.id
        let conversation = try #require(
            try await fixture.conversations.createConversation(createConversation, metadata: ownerA).conversation)
        let document = try #require(
            try await fixture.documents.uploadDocument(metadata: ownerA) { writer in
                var header = Agentplane_V1_UploadDocumentMetadata()
                header.name = "a-secret.md"
                header.skipIndexing = true
                try await writer.write(.init(part: .metadata(header)))
                try await writer.write(.init(part: .chunk(Data("# Only for A".utf8))))
            }.document)

        // Tools: by id and by name.
        for reference in [tool.id, tool.name] {
            #expect(
                await statusCode { try await fixture.tools.getTool(.init(toolID: reference), metadata: ownerB) }
                    == .notFound)
            var execute = Agentplane_V1_ExecuteToolRequest()
            execute.toolID = reference
            execute.arguments = try protoStruct(#"{"query": "q"}"#)
            #expect(await statusCode { try await fixture.tools.executeTool(execute, metadata: serviceB) } == .notFound)
        }
        var updateTool = Agentplane_V1_UpdateToolRequest()
        updateTool.toolID = tool.id
        updateTool.name = "hijacked"
        updateTool.enabled = false
        #expect(await statusCode { try await fixture.tools.updateTool(updateTool, metadata: ownerB) } == .notFound)
        #expect(
            await statusCode { try await fixture.tools.deleteTool(.init(toolID: tool.id), metadata: ownerB) }
                == .notFound)
        #expect(try await fixture.tools.listTools(.init(), metadata: ownerB).tools.isEmpty)

        // Conversations.
        let conversationID = Agentplane_V1_GetConversationRequest(conversationID: conversation.id)
        #expect(
            await statusCode { try await fixture.conversations.getConversation(conversationID, metadata: ownerB) }
                == .notFound)
        var messages = Agentplane_V1_ListMessagesRequest()
        messages.conversationID = conversation.id
        #expect(
            await statusCode { try await fixture.conversations.listMessages(messages, metadata: serviceB) } == .notFound
        )
        var send = Agentplane_V1_SendMessageRequest()
        send.conversationID = conversation.id
        send.content = "let me in"
        #expect(
            await statusCode {
                try await fixture.conversations.sendMessage(send, metadata: ownerB) { stream in
                    for try await _ in stream {}
                }
            } == .notFound)
        var resume = Agentplane_V1_ResumeConversationRequest()
        resume.conversationID = conversation.id
        resume.input = Agentplane_V1_HumanInput(interruptID: "int-1", text: "yes")
        #expect(
            await statusCode {
                try await fixture.conversations.resumeConversation(resume, metadata: ownerB) { stream in
                    for try await _ in stream {}
                }
            } == .notFound)
        var append = Agentplane_V1_AppendMessageRequest()
        append.conversationID = conversation.id
        append.role = .assistant
        append.content = "planted"
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(append, metadata: serviceB) } == .notFound)
        var allConversations = Agentplane_V1_ListConversationsRequest()
        allConversations.allUsers = true
        #expect(
            try await fixture.conversations.listConversations(allConversations, metadata: ownerB).conversations.isEmpty)

        // Documents.
        let documentID = Agentplane_V1_GetDocumentRequest(documentID: document.id)
        #expect(await statusCode { try await fixture.documents.getDocument(documentID, metadata: ownerB) } == .notFound)
        #expect(
            await statusCode {
                try await fixture.documents.downloadDocument(.init(documentID: document.id), metadata: serviceB) {
                    stream in for try await _ in stream {}
                }
            } == .notFound)
        #expect(
            await statusCode {
                try await fixture.documents.deleteDocument(.init(documentID: document.id), metadata: ownerB)
            }
                == .notFound)
        #expect(try await fixture.documents.listDocuments(.init(), metadata: ownerB).documents.isEmpty)

        // Tenant A is unchanged.
        let toolA = try await fixture.tools.getTool(.init(toolID: tool.id), metadata: ownerA).tool
        #expect(toolA?.name == "a-tool" && toolA?.revision == 1 && toolA?.enabled == true)
        let conversationA = try await fixture.conversations.getConversation(conversationID, metadata: ownerA)
        #expect(conversationA.conversation?.status == .idle)
        #expect(try await fixture.conversations.listMessages(messages, metadata: ownerA).messages.isEmpty)
        #expect(try await fixture.documents.getDocument(documentID, metadata: ownerA).document?.name == "a-secret.md")
        #expect(
            try await fixture.documents.listDocuments(.init(), metadata: ownerA).documents.map(\.id) == [document.id])
        try await fixture.stop()
    }
}
