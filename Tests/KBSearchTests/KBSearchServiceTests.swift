import Foundation
import RPCCore
import RPCModels
import RuntimePostgres
import ServiceTestSupport
import Testing

@Suite("KB search service")
struct KBSearchServiceTests {
    static let handbook = """
        # Accounts

        Every user has one account per tenant.

        ## Resetting your password

        Open the profile menu and choose Reset password. A reset link arrives by email within five minutes.

        ## Two-factor authentication

        Enable two-factor authentication with an authenticator app under Security settings.

        # Billing

        Invoices are issued monthly and can be downloaded as PDF from the billing page.
        """

    @Test func indexesAndSearchesInEveryMode() async throws {
        let kb = try await KBFixture.start(["KB_EMBED_BATCH_SIZE": "2"])
        let tenant = uniqueTenant()
        let admin = try await bearer(role: .admin, tenant: tenant)
        let member = try await bearer(role: .member, tenant: tenant)
        let indexed = try await kb.client.index(
            "handbook", title: "User handbook", text: Self.handbook, metadata: admin)
        #expect(indexed.documentID == "handbook")
        #expect(indexed.chunkCount == 4)
        #expect(indexed.embeddingModel == "builtin-hashed-384")
        #expect(indexed.indexedAt != nil)
        // 4 chunks, batches of 2: two Embed calls.
        #expect(kb.gateway.gateway.batches.withLock { $0 } == [2, 2])
        try await kb.client.index(
            "shipping", title: "Shipping", text: "Parcels ship within two days by courier.", contentType: "text/plain",
            metadata: admin)

        for mode in [Agentplane_V1_SearchMode.lexical, .vector, .hybrid, .unspecified] {
            let response = try await kb.client.search("how do I reset my password", mode: mode, metadata: member)
            #expect(response.mode == (mode == .unspecified ? .hybrid : mode))
            let top = try #require(response.results.first, "no result in mode \(mode)")
            #expect(top.documentID == "handbook")
            #expect(top.title == "User handbook")
            #expect(top.headingPath == ["Accounts", "Resetting your password"])
            #expect(top.text.contains("Reset password"))
            #expect(top.chunkIndex == 1)
            #expect(!top.chunkID.isEmpty)
            #expect(top.score > 0)
            #expect(response.results.count <= 5)
            #expect(zip(response.results, response.results.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
        let stats = try await kb.client.stats(Agentplane_V1_StatsRequest(), metadata: member)
        #expect(stats.documentCount == 2)
        #expect(stats.chunkCount == 5)
        #expect(
            stats.textBytes == Int64(Self.handbook.utf8.count + "Parcels ship within two days by courier.".utf8.count))
        #expect(stats.embeddingModel == "builtin-hashed-384")
        #expect(stats.embeddingDimensions == 384)
        #expect(stats.lastIndexedAt != nil)
        try await kb.stop()
    }

    @Test func reindexingReplacesAndDeletingRemoves() async throws {
        let kb = try await KBFixture.start()
        let tenant = uniqueTenant()
        let service = try await serviceBearer(tenant: tenant)
        try await kb.client.index("doc", title: "Pets", text: "Zebras gallop across the savanna.", metadata: service)
        #expect(try await kb.client.search("zebras", mode: .lexical, metadata: service).results.count == 1)
        #expect(
            try await kb.client.search("zebras", mode: .vector, metadata: service).results.first?.text
                == "Zebras gallop across the savanna.")
        try await kb.client.index("doc", title: "Pets", text: "Penguins waddle on the ice.", metadata: service)
        #expect(try await kb.client.search("zebras", mode: .lexical, metadata: service).results.isEmpty)
        let vector = try await kb.client.search("zebras gallop", mode: .vector, metadata: service)
        #expect(vector.results.map(\.text) == ["Penguins waddle on the ice."])
        let deleted = try await kb.client.deleteDocument(
            Agentplane_V1_DeleteIndexedDocumentRequest(documentID: "doc"), metadata: service)
        #expect(deleted.deletedChunks == 1)
        #expect(try await kb.client.search("penguins", mode: .hybrid, metadata: service).results.isEmpty)
        let again = await statusCode {
            _ = try await kb.client.deleteDocument(
                Agentplane_V1_DeleteIndexedDocumentRequest(documentID: "doc"), metadata: service)
        }
        #expect(again == .notFound)
        let stats = try await kb.client.stats(Agentplane_V1_StatsRequest(), metadata: service)
        #expect(stats.documentCount == 0 && stats.chunkCount == 0 && stats.lastIndexedAt == nil)
        try await kb.stop()
    }

    @Test func tenantsNeverSeeEachOther() async throws {
        let kb = try await KBFixture.start()
        let tenantA = uniqueTenant("kb-a")
        let tenantB = uniqueTenant("kb-b")
        let adminA = try await bearer(role: .admin, tenant: tenantA)
        let adminB = try await bearer(role: .admin, tenant: tenantB)
        try await kb.client.index(
            "secret", title: "Launch plan", text: "Project falcon launches in May.", metadata: adminA)
        for mode in [Agentplane_V1_SearchMode.lexical, .vector, .hybrid] {
            #expect(try await kb.client.search("falcon launch", mode: mode, metadata: adminB).results.isEmpty)
            #expect(try await kb.client.search("falcon launch", mode: mode, metadata: adminA).results.count == 1)
        }
        let filtered = try await kb.client.search("falcon", documentIDs: ["secret"], metadata: adminB)
        #expect(filtered.results.isEmpty)
        let delete = await statusCode {
            _ = try await kb.client.deleteDocument(
                Agentplane_V1_DeleteIndexedDocumentRequest(documentID: "secret"), metadata: adminB)
        }
        #expect(delete == .notFound)
        #expect(try await kb.client.stats(Agentplane_V1_StatsRequest(), metadata: adminB).documentCount == 0)
        // Re-indexing the same id in B leaves A's document alone.
        try await kb.client.index("secret", title: "Other", text: "Gardening tips.", metadata: adminB)
        #expect(try await kb.client.search("falcon", mode: .lexical, metadata: adminA).results.count == 1)

        // Row-level security holds on its own: as the application role, without the tenant filter.
        let pool = PostgresPool(
            configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1, role: "agentplane_app"))
        let seenAsB = try await pool.transaction(tenant: tenantB) { session in
            try await session.query("SELECT count(*) AS n FROM kb.chunks WHERE text LIKE '%falcon%'").first?
                .decode("n", as: Int.self)
        }
        let seenWithoutTenant = try await pool.transaction { session in
            try await session.query("SELECT count(*) AS n FROM kb.chunks").first?.decode("n", as: Int.self)
        }
        let seenAsA = try await pool.transaction(tenant: tenantA) { session in
            try await session.query("SELECT count(*) AS n FROM kb.chunks WHERE text LIKE '%falcon%'").first?
                .decode("n", as: Int.self)
        }
        pool.close()
        #expect(seenAsB == 0)
        #expect(seenWithoutTenant == 0)
        #expect(seenAsA == 1)
        try await kb.stop()
    }

    @Test func rolesAreEnforced() async throws {
        let kb = try await KBFixture.start()
        let tenant = uniqueTenant()
        let member = try await bearer(role: .member, tenant: tenant)
        let builder = try await bearer(role: .builder, tenant: tenant)
        let denied = await statusCode { try await kb.client.index("d", text: "text", metadata: member) }
        #expect(denied == .permissionDenied)
        #expect(
            await statusCode { try await kb.client.index("d", text: "text", metadata: builder) } == .permissionDenied)
        let deleteDenied = await statusCode {
            _ = try await kb.client.deleteDocument(
                Agentplane_V1_DeleteIndexedDocumentRequest(documentID: "d"), metadata: member)
        }
        #expect(deleteDenied == .permissionDenied)
        #expect(await statusCode { _ = try await kb.client.search("text", metadata: [:]) } == .unauthenticated)
        #expect(await statusCode { try await kb.client.index("d", text: "text", metadata: [:]) } == .unauthenticated)
        try await kb.client.index("d", text: "text", metadata: try await bearer(role: .owner, tenant: tenant))
        #expect(try await kb.client.search("text", metadata: member).results.count == 1)
        #expect(try await kb.client.stats(Agentplane_V1_StatsRequest(), metadata: member).documentCount == 1)
        try await kb.stop()
    }

    @Test func badInputIsRefusedWithTheRightStatusAndNothingHalfIndexed() async throws {
        let kb = try await KBFixture.start(["KB_MAX_DOCUMENT_BYTES": "10000"])
        let tenant = uniqueTenant()
        let admin = try await bearer(role: .admin, tenant: tenant)
        try await kb.client.index("doc", text: "The original text about lighthouses.", metadata: admin)

        let empty = await rpcError { _ = try await kb.client.search("", metadata: admin) }
        #expect(empty?.code == .invalidArgument)
        #expect(empty?.message.contains("query") == true)
        #expect(await statusCode { _ = try await kb.client.search("  \n ", metadata: admin) } == .invalidArgument)
        #expect(await statusCode { _ = try await kb.client.search("x", topK: -1, metadata: admin) } == .invalidArgument)
        let long = String(repeating: "word ", count: 1000)
        #expect(await statusCode { _ = try await kb.client.search(long, metadata: admin) } == .resourceExhausted)
        // top_k 0 means 5, 10,000 is clamped to 50.
        for number in 0..<60 {
            try await kb.client.index("n\(number)", text: "lighthouse keeper \(number)", metadata: admin)
        }
        #expect(try await kb.client.search("lighthouse", mode: .lexical, topK: 0, metadata: admin).results.count == 5)
        #expect(
            try await kb.client.search("lighthouse", mode: .lexical, topK: 10_000, metadata: admin).results.count == 50)
        #expect(
            try await kb.client.search("lighthouse", mode: .vector, topK: 10_000, metadata: admin).results.count == 50)

        // Over the size limit: RESOURCE_EXHAUSTED, and the earlier version is still there.
        let tooBig = await rpcError {
            try await kb.client.index("doc", text: String(repeating: "big text ", count: 2000), metadata: admin)
        }
        #expect(tooBig?.code == .resourceExhausted)
        #expect(tooBig?.message.contains("KB_MAX_DOCUMENT_BYTES") == true)
        let kept = try await kb.client.search(
            "original lighthouses", mode: .lexical, documentIDs: ["doc"], metadata: admin)
        #expect(kept.results.map(\.text) == ["The original text about lighthouses."])

        #expect(await statusCode { try await kb.client.index("", text: "text", metadata: admin) } == .invalidArgument)
        #expect(
            await statusCode { try await kb.client.index("doc", text: "  \n\n ", metadata: admin) } == .invalidArgument)
        let noHeader = await statusCode {
            _ = try await kb.client.indexDocument(metadata: admin) { writer in
                try await writer.write(Agentplane_V1_IndexDocumentRequest(part: .text("text first")))
            }
        }
        #expect(noHeader == .invalidArgument)
        let twoHeaders = await statusCode {
            _ = try await kb.client.indexDocument(metadata: admin) { writer in
                let header = Agentplane_V1_IndexDocumentHeader(documentID: "doc")
                try await writer.write(Agentplane_V1_IndexDocumentRequest(part: .header(header)))
                try await writer.write(Agentplane_V1_IndexDocumentRequest(part: .header(header)))
            }
        }
        #expect(twoHeaders == .invalidArgument)
        let emptyDelete = await statusCode {
            _ = try await kb.client.deleteDocument(Agentplane_V1_DeleteIndexedDocumentRequest(), metadata: admin)
        }
        #expect(emptyDelete == .invalidArgument)

        // Invalid UTF-8 in a text piece: the message cannot be decoded, nothing replaced.
        let header = Agentplane_V1_IndexDocumentRequest(
            part: .header(Agentplane_V1_IndexDocumentHeader(documentID: "doc", contentType: "text/plain")))
        let badPiece: [UInt8] = [0x12, 0x04, 0x61, 0xff, 0xfe, 0x62]
        let invalidUTF8 = await rpcError {
            _ = try await kb.harness.client.clientStreaming(
                Agentplane_V1_KnowledgeBaseService.Method.IndexDocument.descriptor, metadata: admin,
                encode: { (bytes: [UInt8]) in bytes },
                decode: Agentplane_V1_KnowledgeBaseService.Method.IndexDocument.decodeResponse
            ) { writer in
                try await writer.write(header.serializedBytes())
                try await writer.write(badPiece)
            }
        }
        #expect(invalidUTF8?.code == .invalidArgument)
        #expect(invalidUTF8?.message.contains("UTF-8") == true)
        #expect(
            try await kb.client.search("original", mode: .lexical, documentIDs: ["doc"], metadata: admin)
                .results.count == 1)
        try await kb.stop()
    }

    @Test func embeddingOutageFailsIndexingCleanlyAndLeavesLexicalSearch() async throws {
        let kb = try await KBFixture.start()
        let tenant = uniqueTenant()
        let admin = try await bearer(role: .admin, tenant: tenant)
        try await kb.client.index("doc", text: "Volcanoes erupt with lava.", metadata: admin)
        kb.gateway.gateway.failure.withLock { $0 = .unavailable }
        let index = await rpcError { try await kb.client.index("doc", text: "Glaciers move slowly.", metadata: admin) }
        #expect(index?.code == .unavailable)
        #expect(index?.message.contains("embedding model") == true)
        #expect(
            await statusCode { _ = try await kb.client.search("lava", mode: .vector, metadata: admin) } == .unavailable)
        #expect(
            await statusCode { _ = try await kb.client.search("lava", mode: .hybrid, metadata: admin) } == .unavailable)
        let lexical = try await kb.client.search("lava", mode: .lexical, metadata: admin)
        #expect(lexical.results.map(\.text) == ["Volcanoes erupt with lava."])
        try await kb.stop()

        // No gateway configured at all: UNAVAILABLE too.
        let alone = try await KBFixture.start(["LLM_GATEWAY_ADDR": ""])
        let unconfigured = await statusCode { try await alone.client.index("doc", text: "text", metadata: admin) }
        #expect(unconfigured == .unavailable)
        try await alone.stop()
    }

    @Test func filtersByDocumentAndTags() async throws {
        let kb = try await KBFixture.start()
        let tenant = uniqueTenant()
        let admin = try await bearer(role: .admin, tenant: tenant)
        try await kb.client.index(
            "a", text: "Refund policy for hardware.", tags: ["policy", "hardware"], metadata: admin)
        try await kb.client.index(
            "b", text: "Refund policy for software.", tags: ["policy", "software"], metadata: admin)
        try await kb.client.index("c", text: "Refund policy for services.", tags: ["services"], metadata: admin)
        for mode in [Agentplane_V1_SearchMode.lexical, .vector, .hybrid] {
            let byDocument = try await kb.client.search(
                "refund policy", mode: mode, documentIDs: ["b", "c"], metadata: admin)
            #expect(Set(byDocument.results.map(\.documentID)) == ["b", "c"])
            let byTag = try await kb.client.search("refund policy", mode: mode, tags: ["policy"], metadata: admin)
            #expect(Set(byTag.results.map(\.documentID)) == ["a", "b"])
            let byBoth = try await kb.client.search(
                "refund policy", mode: mode, documentIDs: ["a", "c"], tags: ["policy", "hardware"], metadata: admin)
            #expect(byBoth.results.map(\.documentID) == ["a"])
        }
        try await kb.stop()
    }

    @Test func replicasCatchUpOnEachOthersWrites() async throws {
        let first = try await KBFixture.start()
        let second = try await KBFixture.start(gateway: first.gateway)
        let tenant = uniqueTenant()
        let admin = try await bearer(role: .admin, tenant: tenant)
        try await first.client.index("one", text: "Owls hunt at night.", metadata: admin)
        // The second replica loads the tenant's vectors now...
        #expect(try await second.client.search("owls", mode: .vector, metadata: admin).results.count == 1)
        // ...and must catch up on what the first one writes afterwards.
        try await first.client.index("two", text: "Hawks hunt by day.", metadata: admin)
        let both = try await second.client.search("hunt", mode: .vector, topK: 10, metadata: admin)
        #expect(Set(both.results.map(\.documentID)) == ["one", "two"])
        try await first.client.index("one", text: "Bats fly at dusk.", metadata: admin)
        _ = try await first.client.deleteDocument(
            Agentplane_V1_DeleteIndexedDocumentRequest(documentID: "two"), metadata: admin)
        let after = try await second.client.search("hunt", mode: .vector, topK: 10, metadata: admin)
        #expect(after.results.map(\.text) == ["Bats fly at dusk."])
        try await second.stop(stoppingGateway: false)
        try await first.stop()
    }

    @Test func theSearchRateLimitIsPerTenantAndSaysWhenToRetry() async throws {
        let kb = try await KBFixture.start(["KB_SEARCH_RATE_LIMIT": "3"])
        let tenant = uniqueTenant()
        let member = try await bearer(role: .member, tenant: tenant)
        var limited: RPCError?
        // A minute boundary may reset the window once, so allow up to two windows' worth.
        for _ in 0..<7 {
            limited = await rpcError { _ = try await kb.client.search("anything", mode: .lexical, metadata: member) }
            if limited != nil { break }
        }
        #expect(limited?.code == .resourceExhausted)
        #expect(limited?.message.contains("rate limit") == true)
        let retryAfter = try #require(limited?.details?.retryAfter)
        #expect(retryAfter.seconds >= 0 && retryAfter.seconds <= 60)
        let other = try await bearer(role: .member, tenant: uniqueTenant())
        #expect(try await kb.client.search("anything", mode: .lexical, metadata: other).results.isEmpty)
        try await kb.stop()
    }

    @Test func htmlDocumentsAreSplitAlongTheirHeadings() async throws {
        let kb = try await KBFixture.start()
        let tenant = uniqueTenant()
        let admin = try await bearer(role: .admin, tenant: tenant)
        let html = """
            <html><body><h1>Travel policy</h1><p>Book flights through the portal.</p>
            <h2>Hotels</h2><p>Hotel stays up to 150 euros a night are approved automatically.</p></body></html>
            """
        let indexed = try await kb.client.index(
            "travel", title: "Travel", text: html, contentType: "text/html", metadata: admin)
        #expect(indexed.chunkCount == 2)
        let hit = try #require(
            try await kb.client.search("hotel night approved", mode: .lexical, metadata: admin).results.first)
        #expect(hit.headingPath == ["Travel policy", "Hotels"])
        #expect(hit.text == "Hotel stays up to 150 euros a night are approved automatically.")
        try await kb.stop()
    }
}
