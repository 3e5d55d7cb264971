import Foundation
import RPCModels
import RuntimePostgres
import ServiceTestSupport
import Testing

@testable import KBSearch

/// A small deterministic generator, so the data sets are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state ^ (state >> 29)
    }
}

@Suite("KB approximate vector index")
struct ApproximateIndexTests {
    /// The true top k, by sorting every score (independent of the scan under test).
    static func exactTop(_ query: [Float], _ vectors: [[Float]], k: Int) -> [Int64] {
        vectors.enumerated().map { (Int64($0.offset), VectorMath.dot(query, $0.element)) }
            .sorted { $0.1 > $1.1 }.prefix(k).map(\.0)
    }

    @Test func theExactScanFindsTheTrueTopKAndHonoursTheMask() {
        let vectors = Self.syntheticTexts(count: 500, seed: 8).map(HashedEmbedding.embed)
        let query = HashedEmbedding.embed(Self.syntheticTexts(count: 1, seed: 9)[0])
        let top = ExactScan.top(10, of: query, in: vectors.flatMap { $0 }, count: 500, dimensions: 384, allowed: nil)
        #expect(top.map { Int64($0.row) } == Self.exactTop(query, vectors, k: 10))
        #expect(top.allSatisfy { abs($0.score - VectorMath.dot(query, vectors[$0.row])) < 1e-4 })
        let even = (0..<500).map { UInt8($0 % 2 == 0 ? 1 : 0) }
        let masked = ExactScan.top(
            10, of: query, in: vectors.flatMap { $0 }, count: 500, dimensions: 384, allowed: even)
        #expect(masked.count == 10 && masked.allSatisfy { $0.row % 2 == 0 })
    }

    @Test func recallAtTenMatchesTheExactScanAndDeletedChunksNeverReturn() throws {
        let dimensions = 384
        // Embeddings of text like the built-in provider's, where a near neighbour means shared words.
        let vectors = Self.syntheticTexts(count: 4000, seed: 5).map(HashedEmbedding.embed)
        let settings = KBSearchSettings()
        let index = try #require(
            ApproximateIndex(
                dimensions: dimensions, capacity: 1000, m: settings.annM, efConstruction: settings.annEfConstruction))
        // Capacity 1000 on purpose: the index must grow.
        for (id, vector) in vectors.enumerated() { #expect(index.add(vector, id: Int64(id))) }
        let queries = Self.syntheticTexts(count: 100, seed: 99).map { HashedEmbedding.embed(String($0.prefix(60))) }
        let truth = queries.map { Set(Self.exactTop($0, vectors, k: 10)) }
        var recallByEf: [Int: Double] = [:]
        for ef in Set([64, 128, 256, settings.annEfSearch]).sorted() {
            var found = 0
            for (query, exact) in zip(queries, truth) {
                found += index.search(query, k: 10, ef: ef).filter { exact.contains($0) }.count
            }
            recallByEf[ef] = Double(found) / Double(queries.count * 10)
        }
        print(
            "KB approximate index: recall@10 against the exact scan over 4000 hashed text embeddings (default M): "
                + recallByEf.sorted { $0.key < $1.key }.map { "ef \($0.key): \($0.value)" }.joined(separator: ", "))
        #expect((recallByEf[settings.annEfSearch] ?? 0) >= 0.95)

        let removed = Set((0..<4000).filter { $0 % 10 == 0 }.map { Int64($0) })
        for id in removed { index.remove(id: id) }
        for query in queries.prefix(20) {
            let ids = index.search(query, k: 10, ef: 64)
            #expect(ids.count == 10)
            #expect(ids.allSatisfy { !removed.contains($0) })
        }
    }

    /// Text of a synthetic document: words drawn from a fixed vocabulary.
    static func syntheticTexts(count: Int, seed: UInt64) -> [String] {
        var generator = SeededGenerator(state: seed)
        let syllables = ["ka", "lo", "mi", "ter", "van", "dor", "sil", "pha", "ru", "nex", "bo", "quel"]
        let vocabulary = (0..<400).map { _ in
            (0..<3).map { _ in syllables[Int.random(in: 0..<syllables.count, using: &generator)] }.joined()
        }
        return (0..<count).map { _ in
            (0..<14).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &generator)] }
                .joined(separator: " ")
        }
    }

    @Test func aLargeKnowledgeBaseUsesTheApproximateIndexAndStaysCurrent() async throws {
        let tenant = uniqueTenant("kb-ann")
        let service = try await serviceBearer(tenant: tenant)
        let approximate = try await KBFixture.start(["KB_ANN_THRESHOLD": "200", "KB_SYNC_INTERVAL": "100ms"])
        let exact = try await KBFixture.start(gateway: approximate.gateway)
        let texts = Self.syntheticTexts(count: 260, seed: 3)
        for (number, text) in texts.enumerated() {
            try await exact.client.index("d\(number)", text: text, contentType: "text/plain", metadata: service)
        }
        // The same queries against a replica above the threshold and one scanning exactly.
        let queries = Self.syntheticTexts(count: 30, seed: 11).map { String($0.prefix(40)) }
        var found = 0
        var wanted = 0
        for query in queries {
            let truth = try await exact.client.search(query, mode: .vector, topK: 10, metadata: service)
            let guess = try await approximate.client.search(query, mode: .vector, topK: 10, metadata: service)
            let truthIDs = Set(truth.results.map(\.chunkID))
            wanted += truthIDs.count
            found += guess.results.filter { truthIDs.contains($0.chunkID) }.count
        }
        let recall = Double(found) / Double(max(1, wanted))
        // Lexical search above the threshold (BM25 in memory) finds what PostgreSQL's ranking finds.
        var agreeing = 0
        for (number, text) in texts.enumerated().prefix(20) {
            let words = text.split(separator: " ").prefix(4).joined(separator: " ")
            let inMemory = try await approximate.client.search(words, mode: .lexical, topK: 5, metadata: service)
            let postgres = try await exact.client.search(words, mode: .lexical, topK: 5, metadata: service)
            #expect(inMemory.results.contains { $0.documentID == "d\(number)" })
            if inMemory.results.first?.documentID == postgres.results.first?.documentID { agreeing += 1 }
        }
        print("KB lexical top-1 agreement, in-memory BM25 against PostgreSQL ts_rank_cd: \(agreeing)/20")
        print("KB approximate index through RPC: recall@10 against the exact scan, 260 chunks: \(recall)")
        #expect(recall >= 0.95)

        // The approximate replica catches up on the other's writes into its graph.
        try await exact.client.index("fresh", text: "aurora borealis shimmering overhead", metadata: service)
        let fresh = try await approximate.client.search("aurora borealis", mode: .vector, topK: 3, metadata: service)
        #expect(fresh.results.first?.documentID == "fresh")
        let freshWords = try await approximate.client.search("aurora", mode: .lexical, topK: 3, metadata: service)
        #expect(freshWords.results.map(\.documentID) == ["fresh"])
        _ = try await exact.client.deleteDocument(
            Agentplane_V1_DeleteIndexedDocumentRequest(documentID: "fresh"), metadata: service)
        let gone = try await approximate.client.search("aurora borealis", mode: .vector, topK: 10, metadata: service)
        #expect(!gone.results.contains { $0.documentID == "fresh" })
        #expect(try await approximate.client.search("aurora", mode: .lexical, metadata: service).results.isEmpty)

        // The same mechanism, observed directly: the start-up preload finds the tenant in
        // kb.index_tenants, loads it from Postgres, builds the graph and measures its recall.
        let pool = PostgresPool(
            configuration: .init(connectionString: testDatabaseURL, maximumConnections: 2, role: "agentplane_app"))
        let registry = VectorIndexRegistry(
            tuning: .init(threshold: 260, m: 16, efConstruction: 200, efSearch: 128), maxChunks: 1_000_000,
            logger: .init(label: "test"))
        let synchronizer = IndexSynchronizer(
            store: KBStore(pool: pool), registry: registry, threshold: 260, interval: .seconds(1), preload: true,
            logger: .init(label: "test"))
        try await synchronizer.preloadLargeTenants()
        let index = registry.index(for: tenant)
        #expect(await index.count == 260)
        #expect(await index.awaitApproximateIndex())
        #expect(await index.mayHaveLexicalIndex)
        let measured = try #require(await index.approximateRecall)
        print("KB approximate index preloaded from Postgres: recall@10 \(measured)")
        #expect(measured >= 0.95)
        pool.close()
        // Leave the shared database small for the next runs' preloads.
        for number in texts.indices {
            _ = try await exact.client.deleteDocument(
                Agentplane_V1_DeleteIndexedDocumentRequest(documentID: "d\(number)"), metadata: service)
        }
        try await approximate.stop(stoppingGateway: false)
        try await exact.stop()
    }

    @Test func theLeastRecentlyUsedTenantsLeaveMemoryOverTheBudget() {
        let registry = VectorIndexRegistry(
            tuning: .init(threshold: 100, m: 16, efConstruction: 100, efSearch: 64), maxChunks: 5,
            logger: .init(label: "test"))
        let first = registry.index(for: "a")
        registry.record(tenant: "a", chunks: 2)
        _ = registry.index(for: "b")
        registry.record(tenant: "b", chunks: 2)
        // "a" used again, so "b" is the least recently used when "c" pushes the total over 5.
        #expect(registry.index(for: "a") === first)
        _ = registry.index(for: "c")
        registry.record(tenant: "c", chunks: 2)
        #expect(Set(registry.all.map { $0.tenant }) == ["a", "c"])
        // One tenant alone over the budget stays: it is the one being served.
        registry.record(tenant: "c", chunks: 50)
        #expect(registry.all.map { $0.tenant } == ["c"])
        #expect(registry.index(for: "a") !== first)
    }
}
