import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeRedis
import RuntimeSecurity
import ServiceTestSupport
import Testing

@Suite("Control agents")
struct AgentTests {
    static func create(_ fixture: ControlFixture, _ metadata: Metadata, name: String = "support")
        async throws -> Agentplane_V1_Agent
    {
        var request = Agentplane_V1_CreateAgentRequest()
        request.name = name
        request.description = "first"
        request.flowJSON = validFlow
        request.tags = ["support", "v1"]
        request.metadata = ["team": "care"]
        return try #require(try await fixture.agents.createAgent(request, metadata: metadata).agent)
    }

    static func update(_ agent: Agentplane_V1_Agent, description: String, message: String, expected: Int32 = 0)
        -> Agentplane_V1_UpdateAgentRequest
    {
        var request = Agentplane_V1_UpdateAgentRequest()
        request.agentID = agent.id
        request.expectedVersion = expected
        request.name = agent.name
        request.description = description
        request.flowJSON = validFlow
        request.changeMessage = message
        return request
    }

    @Test func versionsRollbackAndGetAtAVersion() async throws {
        // DeleteAgent asks the execution service whether a run is in progress: the fake has none.
        let fakes = try await FakeIntegrations.start()
        let fixture = try await ControlFixture.start(fakes.environment)
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        let v1 = try await Self.create(fixture, builder.metadata)
        #expect(v1.version == 1 && v1.latestVersion == 1)
        #expect(v1.changeMessage == "Initial version")
        #expect(v1.authorID == builder.id && v1.createdBy == builder.id)
        #expect(v1.flowJSON == validFlow)
        #expect(v1.tags == ["support", "v1"] && v1.metadata == ["team": "care"])

        let v2 = try #require(
            try await fixture.agents.updateAgent(
                Self.update(v1, description: "second", message: "tweak"),
                metadata: builder.metadata
            ).agent)
        #expect(v2.version == 2 && v2.description == "second" && v2.changeMessage == "tweak")
        #expect(v2.tags.isEmpty)  // replaced, not merged
        #expect(
            await statusCode {
                try await fixture.agents.updateAgent(
                    Self.update(v1, description: "stale", message: "m", expected: 1), metadata: builder.metadata)
            } == .aborted)

        var rollback = Agentplane_V1_RollbackAgentRequest()
        rollback.agentID = v1.id
        rollback.toVersion = 1
        let v3 = try #require(try await fixture.agents.rollbackAgent(rollback, metadata: builder.metadata).agent)
        #expect(v3.version == 3 && v3.restoredFromVersion == 1 && v3.description == "first")
        #expect(v3.changeMessage == "Rollback to version 1" && v3.tags == ["support", "v1"])
        rollback.toVersion = 3
        #expect(
            await statusCode { try await fixture.agents.rollbackAgent(rollback, metadata: builder.metadata) }
                == .invalidArgument)
        rollback.toVersion = 9
        #expect(
            await statusCode { try await fixture.agents.rollbackAgent(rollback, metadata: builder.metadata) }
                == .notFound)

        var get = Agentplane_V1_GetAgentRequest()
        get.agentID = v1.id
        get.version = 2
        let atTwo = try #require(try await fixture.agents.getAgent(get, metadata: builder.metadata).agent)
        #expect(atTwo.version == 2 && atTwo.latestVersion == 3 && atTwo.description == "second")
        get.version = 0
        #expect(try await fixture.agents.getAgent(get, metadata: builder.metadata).agent?.version == 3)
        get.version = 4
        #expect(await statusCode { try await fixture.agents.getAgent(get, metadata: builder.metadata) } == .notFound)

        var versions = Agentplane_V1_ListAgentVersionsRequest()
        versions.agentID = v1.id
        versions.pageSize = 2
        let page1 = try await fixture.agents.listAgentVersions(versions, metadata: builder.metadata)
        #expect(page1.versions.map(\.version) == [3, 2])
        versions.pageToken = page1.nextPageToken
        let page2 = try await fixture.agents.listAgentVersions(versions, metadata: builder.metadata)
        #expect(page2.versions.map(\.version) == [1] && page2.nextPageToken.isEmpty)

        let list = try await fixture.agents.listAgents(.init(), metadata: builder.metadata)
        #expect(list.agents.map(\.id) == [v1.id])
        #expect(list.agents.first?.flowJSON == "" && list.agents.first?.version == 3)

        var delete = Agentplane_V1_DeleteAgentRequest()
        delete.agentID = v1.id
        _ = try await fixture.agents.deleteAgent(delete, metadata: builder.metadata)
        #expect(await statusCode { try await fixture.agents.getAgent(get, metadata: builder.metadata) } == .notFound)
        #expect(
            await statusCode { try await fixture.agents.deleteAgent(delete, metadata: builder.metadata) } == .notFound)
        try await fixture.stop()
        await fakes.stop()
    }

    @Test func concurrentUpdatesGetDistinctConsecutiveVersions() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        let agent = try await Self.create(fixture, builder.metadata)
        let versions = try await withThrowingTaskGroup(of: Int32.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let request = Self.update(agent, description: "writer \(index)", message: "update \(index)")
                    return try await fixture.agents.updateAgent(request, metadata: builder.metadata).agent?.version ?? 0
                }
            }
            var all: [Int32] = []
            for try await version in group { all.append(version) }
            return all
        }
        #expect(versions.sorted() == Array(2...11))
        var list = Agentplane_V1_ListAgentVersionsRequest()
        list.agentID = agent.id
        let history = try await fixture.agents.listAgentVersions(list, metadata: builder.metadata).versions
        #expect(history.map(\.version) == Array((1...11).reversed()))
        #expect(Set(history.map(\.changeMessage)).count == 11)
        try await fixture.stop()
    }

    @Test func invalidFlowsListEveryErrorWithItsPath() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        var request = Agentplane_V1_CreateAgentRequest()
        request.name = "broken"
        request.flowJSON = invalidFlow
        let error = await rpcError { try await fixture.agents.createAgent(request, metadata: builder.metadata) }
        #expect(error?.code == .invalidArgument)
        let fields = error?.details?.violations.map(\.field) ?? []
        #expect(fields.count >= 2)
        #expect(fields.contains("$.entry"))
        #expect(fields.contains("$.nodes[0].kind"))

        var validate = Agentplane_V1_ValidateFlowRequest()
        validate.flowJSON = invalidFlow
        let result = try await fixture.agents.validateFlow(validate, metadata: builder.metadata)
        #expect(!result.valid)
        #expect(result.errors.map(\.field) == fields)
        validate.flowJSON = validFlow
        #expect(try await fixture.agents.validateFlow(validate, metadata: builder.metadata).valid)
        validate.flowJSON = "{not json"
        let syntax = try await fixture.agents.validateFlow(validate, metadata: builder.metadata)
        #expect(!syntax.valid && syntax.errors.first?.code == "INVALID_JSON")

        let agent = try await Self.create(fixture, builder.metadata)
        var update = Self.update(agent, description: "x", message: "break it")
        update.flowJSON = invalidFlow
        #expect(
            await statusCode { try await fixture.agents.updateAgent(update, metadata: builder.metadata) }
                == .invalidArgument)
        var get = Agentplane_V1_GetAgentRequest()
        get.agentID = agent.id
        #expect(try await fixture.agents.getAgent(get, metadata: builder.metadata).agent?.latestVersion == 1)
        try await fixture.stop()
    }

    @Test func badInput() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        var request = Agentplane_V1_CreateAgentRequest()
        request.flowJSON = validFlow
        request.name = ""
        #expect(
            await statusCode { try await fixture.agents.createAgent(request, metadata: builder.metadata) }
                == .invalidArgument)
        request.name = "   "
        #expect(
            await statusCode { try await fixture.agents.createAgent(request, metadata: builder.metadata) }
                == .invalidArgument)
        request.name = String(repeating: "n", count: 1 << 20)
        let long = await rpcError { try await fixture.agents.createAgent(request, metadata: builder.metadata) }
        #expect(long?.code == .invalidArgument)
        #expect(long?.details?.violations.first?.field == "name")
        request.name = "big"
        request.flowJSON = String(repeating: " ", count: (1 << 20) + 1)
        #expect(
            await statusCode { try await fixture.agents.createAgent(request, metadata: builder.metadata) }
                == .resourceExhausted)

        let agent = try await Self.create(fixture, builder.metadata)
        #expect(await statusCode { _ = try await Self.create(fixture, builder.metadata) } == .alreadyExists)
        var update = Self.update(agent, description: "", message: "")
        #expect(
            await statusCode { try await fixture.agents.updateAgent(update, metadata: builder.metadata) }
                == .invalidArgument)
        update.changeMessage = "ok"
        update.agentID = ""
        #expect(
            await statusCode { try await fixture.agents.updateAgent(update, metadata: builder.metadata) }
                == .invalidArgument)
        let other = try await Self.create(fixture, builder.metadata, name: "other")
        var rename = Self.update(other, description: "", message: "rename")
        rename.name = agent.name
        #expect(
            await statusCode { try await fixture.agents.updateAgent(rename, metadata: builder.metadata) }
                == .alreadyExists)
        var list = Agentplane_V1_ListAgentsRequest()
        list.pageToken = "garbage!"
        #expect(
            await statusCode { try await fixture.agents.listAgents(list, metadata: builder.metadata) }
                == .invalidArgument)
        list.pageToken = ""
        list.pageSize = -1
        #expect(
            await statusCode { try await fixture.agents.listAgents(list, metadata: builder.metadata) }
                == .invalidArgument)
        try await fixture.stop()
    }

    @Test func listFiltersByTagsAndNameAndPages() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        for (name, tags) in [("billing-bot", ["billing", "prod"]), ("faq", ["prod"]), ("Billing-beta", ["billing"])] {
            var request = Agentplane_V1_CreateAgentRequest()
            request.name = name
            request.flowJSON = validFlow
            request.tags = tags
            _ = try await fixture.agents.createAgent(request, metadata: builder.metadata)
        }
        var list = Agentplane_V1_ListAgentsRequest()
        list.tags = ["billing", "prod"]
        #expect(
            try await fixture.agents.listAgents(list, metadata: builder.metadata).agents.map(\.name) == ["billing-bot"])
        list.tags = []
        list.nameContains = "BILLING"
        let named = try await fixture.agents.listAgents(list, metadata: builder.metadata).agents.map(\.name)
        #expect(Set(named) == ["billing-bot", "Billing-beta"])
        var paged = Agentplane_V1_ListAgentsRequest()
        paged.pageSize = 2
        let first = try await fixture.agents.listAgents(paged, metadata: builder.metadata)
        #expect(first.agents.count == 2 && !first.nextPageToken.isEmpty)
        paged.pageToken = first.nextPageToken
        let second = try await fixture.agents.listAgents(paged, metadata: builder.metadata)
        #expect(second.agents.count == 1 && second.nextPageToken.isEmpty)
        #expect(Set((first.agents + second.agents).map(\.name)).count == 3)
        try await fixture.stop()
    }

    @Test func savesAreAppendedToTheTenantEventStream() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant)
        let agent = try await Self.create(fixture, builder.metadata)
        let redis = RedisPool(configuration: try RedisConfiguration(url: testRedisURL))
        defer { redis.close() }
        let key = try RedisKey.tenant(tenant.id, "events")
        let entries = try await redis.send("XRANGE", key, "-", "+").array()
        let texts = try entries.map { entry in try entry.array()[1].array().map { try $0.string() } }
        #expect(texts.contains { $0.contains("agent.created") && $0.contains(agent.id) })
        try await fixture.stop()
    }
}
