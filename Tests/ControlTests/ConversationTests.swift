import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import ServiceTestSupport
import Synchronization
import Testing

@Suite("Control conversations")
struct ConversationTests {
    struct Fixture {
        let fakes: FakeIntegrations
        let harness: ServiceTestHarness
        let conversations: Agentplane_V1_ConversationService.Client
        let agents: Agentplane_V1_AgentService.Client

        static func start() async throws -> Fixture {
            let fakes = try await FakeIntegrations.start()
            let harness = try await ServiceTestHarness.start(
                ControlService.definition,
                environment: fakes.environment.merging(["SECRET_BOX_KEYS": testSecretBoxKeys()]) { $1 })
            return Fixture(
                fakes: fakes, harness: harness, conversations: .init(harness.client), agents: .init(harness.client))
        }

        func stop() async throws {
            try await harness.stop()
            await fakes.stop()
        }

        /// An agent of `tenant`, created by a builder; its id.
        func agent(in tenant: String) async throws -> String {
            var request = Agentplane_V1_CreateAgentRequest()
            request.name = "support-" + UUID().uuidString.prefix(8)
            request.flowJSON = validFlow
            let builder = try await bearer(role: .builder, tenant: tenant, user: "builder-1")
            return try await agents.createAgent(request, metadata: builder).agent?.id ?? ""
        }

        func create(agent: String, as metadata: Metadata) async throws -> Agentplane_V1_Conversation {
            var request = Agentplane_V1_CreateConversationRequest()
            request.agentID = agent
            return try #require(try await conversations.createConversation(request, metadata: metadata).conversation)
        }

        /// Every item of a SendMessage stream.
        func send(_ conversation: String, _ content: String, as metadata: Metadata) async throws
            -> [Agentplane_V1_SendMessageResponse]
        {
            var request = Agentplane_V1_SendMessageRequest()
            request.conversationID = conversation
            request.content = content
            return try await conversations.sendMessage(request, metadata: metadata) { stream in
                var items: [Agentplane_V1_SendMessageResponse] = []
                for try await item in stream { items.append(item) }
                return items
            }
        }

        /// The items a SendMessage stream delivered and the error that ended it, if any.
        func attempt(_ conversation: String, _ content: String, as metadata: Metadata) async
            -> (items: [Agentplane_V1_SendMessageResponse], error: RPCError?)
        {
            var request = Agentplane_V1_SendMessageRequest()
            request.conversationID = conversation
            request.content = content
            let seen = Mutex<[Agentplane_V1_SendMessageResponse]>([])
            do {
                try await conversations.sendMessage(request, metadata: metadata) { stream in
                    for try await item in stream { seen.withLock { $0.append(item) } }
                }
                return (seen.withLock { $0 }, nil)
            } catch {
                return (seen.withLock { $0 }, error as? RPCError)
            }
        }

        func conversation(_ id: String, as metadata: Metadata) async throws -> Agentplane_V1_Conversation {
            try #require(
                try await conversations.getConversation(.init(conversationID: id), metadata: metadata).conversation)
        }

        /// The contents of every message of the conversation, oldest first.
        func contents(_ id: String, as metadata: Metadata) async throws -> [String] {
            var request = Agentplane_V1_ListMessagesRequest()
            request.conversationID = id
            request.pageSize = 500
            return try await conversations.listMessages(request, metadata: metadata).messages.map(\.content)
        }
    }

    @Test("a run whose execution stream breaks after it started keeps the conversation RUNNING until it ends")
    func lostExecutionStreamKeepsTheRun() async throws {
        let fixture = try await Fixture.start()
        let execution = fixture.fakes.execution
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let service = try await serviceBearer(service: "execution", tenant: tenant)
        let conversation = try await fixture.create(agent: agent, as: member)

        // Execute fails before there is a run: IDLE again, the error returned, the message kept.
        let refused = await fixture.attempt(conversation.id, "refuse at once", as: member)
        #expect(refused.error?.code == .unavailable)
        let idle = try await fixture.conversation(conversation.id, as: member)
        #expect(idle.status == .idle && idle.activeRunID.isEmpty)

        // The stream breaks after run_started: the run goes on elsewhere, the conversation waits for it.
        let lost = await fixture.attempt(conversation.id, "drop after start", as: member)
        #expect(lost.items.first?.userMessage?.content == "drop after start")
        let runID = try #require(lost.items.first { $0.event?.runStarted != nil }?.event?.runID)
        #expect(lost.error?.code == .unavailable)
        #expect(lost.error?.message.contains("run \(runID) continues") == true)
        let running = try await fixture.conversation(conversation.id, as: member)
        #expect(running.status == .running && running.activeRunID == runID)

        // While GetRun reports it RUNNING, a retry is ABORTED before anything is saved or started.
        let saved = try await fixture.contents(conversation.id, as: member)
        #expect(saved == ["refuse at once", "drop after start"])
        let executed = execution.executed.withLock { $0.count }
        for _ in 0..<3 {
            let retry = await fixture.attempt(conversation.id, "drop after start", as: member)
            #expect(retry.error?.code == .aborted && retry.items.isEmpty)
        }
        #expect(try await fixture.contents(conversation.id, as: member) == saved)
        #expect(execution.executed.withLock { $0.count } == executed)
        #expect(try await fixture.conversation(conversation.id, as: member).status == .running)

        // Another replica finishes the run and saves its answer; the next message goes through.
        var answer = Agentplane_V1_AppendMessageRequest()
        answer.conversationID = conversation.id
        answer.role = .assistant
        answer.content = "taken over"
        answer.runID = runID
        answer.idempotencyKey = "\(runID):assistant:1"
        _ = try await fixture.conversations.appendMessage(answer, metadata: service)
        execution.runs.withLock { $0[runID]?.current = .succeeded }
        let next = try await fixture.send(conversation.id, "thanks", as: member)
        #expect(next.last?.assistantMessage?.content == "echo: thanks")
        #expect(
            try await fixture.contents(conversation.id, as: member) == saved + ["taken over", "thanks", "echo: thanks"])

        // A stream that ends without a terminal event is no answer either; GetConversation shows
        // the conversation IDLE once the run is over.
        let ended = await fixture.attempt(conversation.id, "end early", as: member)
        let endedRun = try #require(ended.items.first { $0.event?.runStarted != nil }?.event?.runID)
        #expect(ended.error?.code == .unavailable)
        let waiting = try await fixture.conversation(conversation.id, as: member)
        #expect(waiting.status == .running && waiting.activeRunID == endedRun)
        var runningOnly = Agentplane_V1_ListConversationsRequest()
        runningOnly.status = .running
        let listed = try await fixture.conversations.listConversations(runningOnly, metadata: member)
        #expect(listed.conversations.map(\.id) == [conversation.id])
        execution.runs.withLock { $0[endedRun]?.current = .failed }
        // ListConversations shows it as it stands too, and no longer under the RUNNING filter.
        let page = try await fixture.conversations.listConversations(.init(), metadata: member)
        #expect(page.conversations.first { $0.id == conversation.id }?.status == .idle)
        #expect(try await fixture.conversations.listConversations(runningOnly, metadata: member).conversations.isEmpty)
        let over = try await fixture.conversation(conversation.id, as: member)
        #expect(over.status == .idle && over.activeRunID.isEmpty)
        try await fixture.stop()
    }

    @Test("SendMessage: the saved user message, the run's events, then the saved assistant message")
    func sendMessage() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let conversation = try await fixture.create(agent: agent, as: member)
        #expect(conversation.status == .idle && conversation.createdBy == "member-1")

        let items = try await fixture.send(conversation.id, "hello there", as: member)
        let user = try #require(items.first?.userMessage)
        #expect(user.role == .user && user.content == "hello there" && user.authorID == "member-1")
        #expect(items.dropFirst().dropLast().allSatisfy { $0.event != nil })
        #expect(items.count == 5)
        let answer = try #require(items.last?.assistantMessage)
        #expect(answer.role == .assistant && answer.content == "echo: hello there" && !answer.runID.isEmpty)
        let sent = try #require(fixture.fakes.execution.executed.withLock { $0.last })
        #expect(sent.agent?.agentID == agent && sent.conversationID == conversation.id)
        #expect(sent.inputMessageID == user.id && sent.input == "hello there")

        let after = try await fixture.conversations.getConversation(
            .init(conversationID: conversation.id), metadata: member)
        #expect(after.conversation?.status == .idle && after.conversation?.title == "hello there")
        #expect(after.conversation?.lastMessageAt != nil)

        // Messages page oldest first.
        _ = try await fixture.send(conversation.id, "second", as: member)
        var page = Agentplane_V1_ListMessagesRequest()
        page.conversationID = conversation.id
        page.pageSize = 3
        let first = try await fixture.conversations.listMessages(page, metadata: member)
        #expect(first.messages.map(\.content) == ["hello there", "echo: hello there", "second"])
        page.pageToken = first.nextPageToken
        let second = try await fixture.conversations.listMessages(page, metadata: member)
        #expect(second.messages.map(\.content) == ["echo: second"] && second.nextPageToken.isEmpty)

        // A failed run ends the stream after run_failed; the conversation is idle again.
        let failed = try await fixture.send(conversation.id, "please fail", as: member)
        #expect(failed.last?.event?.runFailed != nil && failed.count == 3)
        var empty = Agentplane_V1_SendMessageRequest()
        empty.conversationID = conversation.id
        empty.content = "  "
        #expect(await statusCode { try await fixture.send(conversation.id, " ", as: member) } == .invalidArgument)
        let big = String(repeating: "x", count: 33 * 1024)
        #expect(await statusCode { try await fixture.send(conversation.id, big, as: member) } == .resourceExhausted)
        try await fixture.stop()
    }

    @Test("an interrupt pauses the conversation; ResumeConversation answers it and finishes the run")
    func interruptAndResume() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let conversation = try await fixture.create(agent: agent, as: member)
        let items = try await fixture.send(conversation.id, "ask me something", as: member)
        #expect(items.last?.event?.interrupt?.interruptID == "int-1")
        let waiting = try #require(
            try await fixture.conversations.getConversation(.init(conversationID: conversation.id), metadata: member)
                .conversation)
        #expect(waiting.status == .waitingForInput && waiting.pendingInterrupt?.prompt == "Which order?")
        #expect(
            await statusCode { try await fixture.send(conversation.id, "again", as: member) } == .failedPrecondition)

        var resume = Agentplane_V1_ResumeConversationRequest()
        resume.conversationID = conversation.id
        resume.input = Agentplane_V1_HumanInput(interruptID: "stale", text: "A-17")
        let stale = await statusCode {
            try await fixture.conversations.resumeConversation(resume, metadata: member) { stream in
                for try await _ in stream {}
            }
        }
        #expect(stale == .aborted)
        resume.input = Agentplane_V1_HumanInput(interruptID: "int-1", text: "A-17")
        let resumed = try await fixture.conversations.resumeConversation(resume, metadata: member) { stream in
            var items: [Agentplane_V1_ResumeConversationResponse] = []
            for try await item in stream { items.append(item) }
            return items
        }
        #expect(resumed.first?.userMessage?.content == "A-17")
        #expect(resumed.last?.assistantMessage?.content == "resumed: A-17")
        #expect(fixture.fakes.execution.resumed.withLock { $0.last?.runID } == waiting.activeRunID)
        let idle = try await fixture.conversations.getConversation(
            .init(conversationID: conversation.id), metadata: member)
        #expect(idle.conversation?.status == .idle && idle.conversation?.pendingInterrupt == nil)
        let again = await statusCode {
            try await fixture.conversations.resumeConversation(resume, metadata: member) { stream in
                for try await _ in stream {}
            }
        }
        #expect(again == .failedPrecondition)

        // A structured answer without text is saved as its JSON (not as a Swift dictionary).
        let second = try await fixture.create(agent: agent, as: member)
        _ = try await fixture.send(second.id, "ask me", as: member)
        var structured = Agentplane_V1_ResumeConversationRequest()
        structured.conversationID = second.id
        structured.input = Agentplane_V1_HumanInput(interruptID: "int-1", text: "")
        structured.input?.data = try protoStruct(#"{"order": "A-17"}"#)
        let answered = try await fixture.conversations.resumeConversation(structured, metadata: member) { stream in
            var items: [Agentplane_V1_ResumeConversationResponse] = []
            for try await item in stream { items.append(item) }
            return items
        }
        #expect(answered.first?.userMessage?.content == #"{"order":"A-17"}"#)
        try await fixture.stop()
    }

    @Test("one run at a time: ABORTED while a run is in progress; a run lost by a crash is released after the bound")
    func oneRunAtATime() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let conversation = try await fixture.create(agent: agent, as: member)
        let first = Task { try await fixture.send(conversation.id, "hold on", as: member) }
        var runID = ""
        for _ in 0..<200 where runID.isEmpty {
            let current = try await fixture.conversations.getConversation(
                .init(conversationID: conversation.id), metadata: member)
            if current.conversation?.status == .running { runID = current.conversation?.activeRunID ?? "" }
            if runID.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(!runID.isEmpty)
        #expect(await statusCode { try await fixture.send(conversation.id, "me too", as: member) } == .aborted)
        fixture.fakes.execution.released.withLock { $0 = true }
        let items = try await first.value
        #expect(items.last?.assistantMessage?.content == "echo: hold on")

        // A run the execution service does not know, named just now: it may be one SendMessage
        // named and the execution service has not stored yet, so it holds until
        // CONVERSATION_STALE_AFTER (2 minutes by default) has passed.
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        _ = try await admin.query(
            """
            UPDATE control.conversations SET status = 2, active_run_id = 'run-lost', updated_at = now()
            WHERE tenant_id = $1 AND id = $2
            """, tenant, conversation.id)
        #expect(await statusCode { try await fixture.send(conversation.id, "already?", as: member) } == .aborted)

        // A crash left it RUNNING with that run for longer than the bound: released.
        _ = try await admin.query(
            """
            UPDATE control.conversations SET status = 2, active_run_id = 'run-lost',
                updated_at = now() - interval '10 minutes'
            WHERE tenant_id = $1 AND id = $2
            """, tenant, conversation.id)
        let after = try await fixture.send(conversation.id, "still there?", as: member)
        #expect(after.last?.assistantMessage?.content == "echo: still there?")
        try await fixture.stop()
    }

    @Test("SendMessage names the run, saved with the message, and hands the execution service the agent")
    func sendMessageNamesTheRunAndHandsOverTheAgent() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let conversation = try await fixture.create(agent: agent, as: member)
        let first = Task { try await fixture.send(conversation.id, "hold on", as: member) }
        var sent: Agentplane_V1_ExecuteRequest?
        for _ in 0..<200 where sent == nil {
            sent = fixture.fakes.execution.executed.withLock { $0.last { $0.conversationID == conversation.id } }
            if sent == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let request = try #require(sent)
        #expect(UUID(uuidString: request.runID)?.uuidString.lowercased() == request.runID)
        // Recorded before the execution service answered anything.
        let running = try await fixture.conversation(conversation.id, as: member)
        #expect(running.status == .running && running.activeRunID == request.runID)
        #expect(request.resolvedAgent?.agent?.id == agent && request.resolvedAgent?.agent?.flowJSON == validFlow)
        fixture.fakes.execution.released.withLock { $0 = true }
        _ = try await first.value
        try await fixture.stop()
    }

    @Test("a run's answer saved with AppendMessage ends the run in the conversation, and only that run's")
    func appendedAnswerEndsItsRun() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let service = try await serviceBearer(service: "execution", tenant: tenant)
        let conversation = try await fixture.create(agent: agent, as: member)
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        _ = try await admin.query(
            "UPDATE control.conversations SET status = 2, active_run_id = 'run-a' WHERE tenant_id = $1 AND id = $2",
            tenant, conversation.id)
        var request = Agentplane_V1_AppendMessageRequest()
        request.conversationID = conversation.id
        request.role = .assistant
        request.content = "From another run."
        request.runID = "run-b"
        request.idempotencyKey = "run-b:assistant:1"
        _ = try await fixture.conversations.appendMessage(request, metadata: service)
        let other = try await fixture.conversation(conversation.id, as: member)
        #expect(other.status == .running)
        #expect(other.activeRunID == "run-a")
        request.content = "The answer."
        request.runID = "run-a"
        request.idempotencyKey = "run-a:assistant:1"
        _ = try await fixture.conversations.appendMessage(request, metadata: service)
        let ended = try await fixture.conversation(conversation.id, as: member)
        #expect(ended.status == .idle)
        #expect(ended.activeRunID == "")
        try await fixture.stop()
    }

    @Test("a conversation RUNNING without a run id (a crash before the first event) is released after the bound")
    func unstartedRunIsReleasedAfterTheBound() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let stale = try await fixture.create(agent: agent, as: member)
        let fresh = try await fixture.create(agent: agent, as: member)
        // As a crash leaves them: the user's message saved, RUNNING, no run id yet. One was last
        // changed 10 minutes ago (beyond the default CONVERSATION_STALE_AFTER of 2 minutes), one now.
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        for (id, age) in [(stale.id, "10 minutes"), (fresh.id, "0 seconds")] {
            _ = try await admin.query(
                """
                UPDATE control.conversations SET status = 2, active_run_id = '', updated_at = now() - $3::interval
                WHERE tenant_id = $1 AND id = $2
                """, tenant, id, age)
        }
        let executed = fixture.fakes.execution.executed.withLock { $0.count }
        let after = try await fixture.send(stale.id, "anyone there?", as: member)
        #expect(after.last?.assistantMessage?.content == "echo: anyone there?")
        #expect(fixture.fakes.execution.executed.withLock { $0.count } == executed + 1)

        #expect(await statusCode { try await fixture.send(fresh.id, "me too", as: member) } == .aborted)
        let still = try await fixture.conversations.getConversation(.init(conversationID: fresh.id), metadata: member)
        #expect(still.conversation?.status == .running && still.conversation?.activeRunID == "")
        #expect(fixture.fakes.execution.executed.withLock { $0.count } == executed + 1)
        try await fixture.stop()
    }

    @Test("AppendMessage: service tokens only, idempotent by key")
    func appendMessage() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let service = try await serviceBearer(service: "execution", tenant: tenant)
        let conversation = try await fixture.create(agent: agent, as: member)
        var request = Agentplane_V1_AppendMessageRequest()
        request.conversationID = conversation.id
        request.role = .assistant
        request.content = "Here is your answer."
        request.runID = "run-7"
        request.idempotencyKey = "run-7:assistant:1"
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(request, metadata: member) }
                == .permissionDenied)
        let owner = try await bearer(role: .owner, tenant: tenant)
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(request, metadata: owner) }
                == .permissionDenied)
        let first = try await fixture.conversations.appendMessage(request, metadata: service)
        #expect(first.replayed == false && first.message?.content == "Here is your answer.")
        let second = try await fixture.conversations.appendMessage(request, metadata: service)
        #expect(second.replayed && second.message?.id == first.message?.id)
        var changed = request
        changed.content = "Something else"
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(changed, metadata: service) }
                == .failedPrecondition)
        var noRole = request
        noRole.role = .unspecified
        noRole.idempotencyKey = ""
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(noRole, metadata: service) }
                == .invalidArgument)
        // Metadata (an answer's citations): 256 KiB and 100 entries accepted, a byte or an entry more not.
        var withMetadata = request
        withMetadata.idempotencyKey = ""
        withMetadata.metadata = ["citations": String(repeating: "c", count: 256 * 1024 - 9)]
        #expect(
            try await fixture.conversations.appendMessage(withMetadata, metadata: service).message?.metadata
                == withMetadata.metadata)
        withMetadata.metadata["citations"]! += "c"
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(withMetadata, metadata: service) }
                == .resourceExhausted)
        withMetadata.metadata = Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", "v") })
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(withMetadata, metadata: service) } == .ok)
        withMetadata.metadata["k100"] = "v"
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(withMetadata, metadata: service) }
                == .invalidArgument)
        let foreign = try await serviceBearer(service: "execution", tenant: uniqueTenant())
        var elsewhere = request
        elsewhere.idempotencyKey = "other-key"
        #expect(
            await statusCode { try await fixture.conversations.appendMessage(elsewhere, metadata: foreign) }
                == .notFound)
        var listing = Agentplane_V1_ListMessagesRequest()
        listing.conversationID = conversation.id
        let messages = try await fixture.conversations.listMessages(listing, metadata: member).messages
        // The keyed answer once, and the two accepted with metadata.
        #expect(messages.map(\.content) == Array(repeating: "Here is your answer.", count: 3))
        try await fixture.stop()
    }

    @Test("visibility: own conversations for members, all for admins; other tenants get NOT_FOUND")
    func isolation() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let alice = try await bearer(role: .member, tenant: tenant, user: "alice")
        let bob = try await bearer(role: .member, tenant: tenant, user: "bob")
        let admin = try await bearer(role: .admin, tenant: tenant, user: "admin")
        let conversation = try await fixture.create(agent: agent, as: alice)
        let id = Agentplane_V1_GetConversationRequest(conversationID: conversation.id)
        #expect(await statusCode { try await fixture.conversations.getConversation(id, metadata: bob) } == .notFound)
        #expect(await statusCode { try await fixture.send(conversation.id, "hi", as: bob) } == .notFound)
        #expect(
            try await fixture.conversations.getConversation(id, metadata: admin).conversation?.id == conversation.id)
        #expect(try await fixture.conversations.listConversations(.init(), metadata: bob).conversations.isEmpty)
        #expect(try await fixture.conversations.listConversations(.init(), metadata: alice).conversations.count == 1)
        var all = Agentplane_V1_ListConversationsRequest()
        all.allUsers = true
        #expect(
            await statusCode { try await fixture.conversations.listConversations(all, metadata: bob) }
                == .permissionDenied)
        #expect(try await fixture.conversations.listConversations(all, metadata: admin).conversations.count == 1)

        let stranger = try await bearer(role: .owner, tenant: uniqueTenant(), user: "alice")
        #expect(
            await statusCode { try await fixture.conversations.getConversation(id, metadata: stranger) } == .notFound)
        #expect(await statusCode { try await fixture.send(conversation.id, "hi", as: stranger) } == .notFound)
        #expect(try await fixture.conversations.listConversations(all, metadata: stranger).conversations.isEmpty)
        var messages = Agentplane_V1_ListMessagesRequest()
        messages.conversationID = conversation.id
        #expect(
            await statusCode { try await fixture.conversations.listMessages(messages, metadata: stranger) } == .notFound
        )
        #expect(await statusCode { try await fixture.create(agent: agent, as: stranger) } == .notFound)
        var missing = Agentplane_V1_CreateConversationRequest()
        #expect(
            await statusCode { try await fixture.conversations.createConversation(missing, metadata: alice) }
                == .invalidArgument)
        missing.agentID = agent
        missing.agentVersion = 9
        #expect(
            await statusCode { try await fixture.conversations.createConversation(missing, metadata: alice) }
                == .notFound)
        try await fixture.stop()
    }
}
