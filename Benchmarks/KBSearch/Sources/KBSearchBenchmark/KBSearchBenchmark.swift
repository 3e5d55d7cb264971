// KB search benchmark (release): the kb-search service runs in this process, as its executable runs
// it (ServiceHost: migrations, pools, auth, gRPC on loopback), with a local hashed embedder instead
// of the LLM gateway, and is driven through its RPCs by a gRPC client in the same process. For each
// size, one new tenant of that many chunks (100-chunk plain-text documents, one 40-word paragraph
// per chunk, KB_CHUNK_SIZE 500, no overlap):
//   indexing     IndexDocument one document after the other: chunks/s (chunking, embedding,
//                one PostgreSQL transaction per document)
//   first search loads the tenant into memory (at or above the threshold: with every chunk's lexemes)
//   graph        at or above the threshold, waits until the HNSW graph built in the background is in use
//                (the service's log line "kb: approximate index built", read from standard error)
//   search       p50 / mean / p99 of lexical, vector and hybrid search, top 10, the same queries in
//                every mode, timed by the client (gRPC, JWT check, embedding the query, the ranking,
//                PostgreSQL reads of the results)
//   recall@10    at or above the threshold: vector search's top 10 (HNSW) against the exact scan's,
//                which the service uses for a filtered search (every document id as the filter)
// then deletes the documents through DeleteDocument and every row the tenant left in the `kb` schema.
//
// Usage: KBSearchBenchmark [--sizes 1000,10000,100000] [--queries 200] [--warmup 5]
//                          [--recall-queries 200] [--threshold 20000] [--ef-search N] [--graph-timeout 900]
//                          [--database-url URL] [--redis-url URL]
// Lines starting with `metric ` are read by Benchmarks/kb-run; the service's log goes to standard error.

import BenchmarkSupport
import Foundation
import KBSearch
import RPCCore
import RPCHTTP2
import RPCModels
import Runtime
import RuntimeSecurity

/// A failed measurement, with what went wrong.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

@main
struct KBSearchBenchmark {
    /// Chunks per benchmark document (one paragraph each with KB_CHUNK_SIZE 500).
    static let chunksPerDocument = 100

    let options: Options
    let client: Agentplane_V1_KnowledgeBaseService.Client
    let issuer: TokenIssuer
    let watcher: ServiceLogWatcher
    let clock = ContinuousClock()

    static func main() async {
        let options = Options(Array(CommandLine.arguments.dropFirst()))
        guard let watcher = ServiceLogWatcher.start() else { fail("could not watch standard error") }
        let cleanup = TenantCleanup(databaseURL: options.databaseURL)
        do {
            for tenant in try await cleanup.leftovers() {
                progress("removing tenant \(tenant), left behind by an interrupted run")
                try await cleanup.purge(tenant: tenant)
            }
        } catch {
            fail("PostgreSQL at \(options.databaseURL) is not usable (scripts/infra start): \(error)")
        }

        // A secret of this run only: no token of another process is accepted.
        let secret = String((0..<48).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "x" })
        var environment = [
            "HOST": "127.0.0.1", "PORT": "0", "ADMIN_PORT": "0", "DATABASE_URL": options.databaseURL,
            "REDIS_URL": options.redisURL, "JWT_SECRET": secret, "KB_CHUNK_SIZE": "500", "KB_CHUNK_OVERLAP": "0",
            "KB_SEARCH_RATE_LIMIT": "0", "KB_PRELOAD": "false", "KB_ANN_THRESHOLD": String(options.threshold),
        ]
        if let efSearch = options.efSearch { environment["KB_ANN_EF_SEARCH"] = String(efSearch) }
        // The graph's shape is tuned from outside (KB_ANN_M, KB_ANN_EF_CONSTRUCTION), as an operator would.
        for key in ["KB_ANN_M", "KB_ANN_EF_CONSTRUCTION"] {
            if let value = ProcessInfo.processInfo.environment[key] { environment[key] = value }
        }
        let service: RunningService
        let issuer: TokenIssuer
        do {
            service = try await ServiceHost.start(
                KBSearchService.definition(embedder: HashedEmbedder()), environment: environment, arguments: [])
            issuer = try TokenIssuer(secret: Array(secret.utf8))
        } catch {
            fail("the kb-search service did not start: \(error)")
        }
        let running = Task { try await service.run() }
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: service.grpcPort)
        let benchmark = KBSearchBenchmark(
            options: options, client: Agentplane_V1_KnowledgeBaseService.Client(RPCClient(transport: transport)),
            issuer: issuer, watcher: watcher)

        print(
            "KBSearchBenchmark: sizes \(options.sizes.map(String.init).joined(separator: ", ")) chunks,"
                + " \(options.queries) queries per mode, KB_ANN_THRESHOLD \(options.threshold),"
                + " KB_ANN_EF_SEARCH \(options.efSearch.map(String.init) ?? "default"),"
                + " KB_ANN_M \(ProcessInfo.processInfo.environment["KB_ANN_M"] ?? "default"),"
                + " KB_ANN_EF_CONSTRUCTION \(ProcessInfo.processInfo.environment["KB_ANN_EF_CONSTRUCTION"] ?? "default"),"
                + " \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var failure: String?
        var corpus = SyntheticCorpus()
        for size in options.sizes {
            let tenant = TenantCleanup.tenantPrefix + UUID().uuidString.lowercased()
            metric("size_\(size)_loadavg_start", loadAverage(), digits: 2)
            do {
                try await benchmark.measure(size: size, tenant: tenant, corpus: &corpus)
            } catch {
                failure = "\(size) chunks: \(error)"
            }
            metric("size_\(size)_loadavg_end", loadAverage(), digits: 2)
            // Whatever happened above, the tenant's rows go.
            do {
                let purged = try await cleanup.purge(tenant: tenant)
                let left = try await cleanup.remainingRows(tenant: tenant)
                progress("\(size) chunks: removed the tenant's last \(purged) rows, \(left) left")
                metric("size_\(size)_rows_left", Double(left), digits: 0)
                if left != 0 { failure = failure ?? "\(size) chunks: \(left) rows of tenant \(tenant) are left" }
            } catch {
                failure = (failure.map { $0 + "; " } ?? "") + "tenant \(tenant) could not be removed: \(error)"
            }
            if failure != nil { break }
        }
        await transport.close()
        await service.shutdown()
        _ = try? await running.value
        cleanup.close()
        if let failure { fail(failure) }
    }

    /// One size: indexing, the first search, the graph, latencies per mode, recall, deletion.
    func measure(size: Int, tenant: String, corpus: inout SyntheticCorpus) async throws {
        let token = try await issuer.issueServiceToken(
            service: "control", tenantID: tenant, actingUserID: "kb-benchmark", ttl: .seconds(6 * 3600))
        let calls = KnowledgeBaseCalls(client: client, metadata: ["authorization": .string("Bearer \(token.token)")])
        let name = "size_\(size)"
        let documents = max(1, size / Self.chunksPerDocument)
        let perDocument = min(size, Self.chunksPerDocument)
        let texts = (0..<documents).map { _ in
            (0..<perDocument).map { _ in corpus.paragraph(words: 40) }.joined(separator: "\n\n")
        }
        let documentIDs = texts.indices.map { "doc-\($0)" }
        let queries = (0..<max(options.queries, options.recallQueries)).map { _ in corpus.query() }

        progress("\(size) chunks: indexing \(documents) documents into tenant \(tenant)")
        let indexing = clock.now
        var indexed = 0
        for (number, text) in texts.enumerated() {
            indexed += try await calls.index(documentIDs[number], title: "Document \(number)", text: text)
        }
        let indexingSeconds = milliseconds(clock.now - indexing) / 1000
        guard indexed == documents * perDocument else {
            throw BenchmarkError("indexed \(indexed) chunks, expected \(documents * perDocument)")
        }
        print("\(indexed) chunks: indexing \(fixed(Double(indexed) / indexingSeconds, 0)) chunks/s")
        metric("\(name)_chunks", Double(indexed), digits: 0)
        metric("\(name)_index_chunks_per_s", Double(indexed) / indexingSeconds, digits: 0)

        let loading = clock.now
        let first = try await calls.search(queries[0], mode: .hybrid)
        print("\(indexed) chunks: first search (loads the tenant) \(fixed(first.milliseconds, 1)) ms")
        metric("\(name)_first_search_ms", first.milliseconds, digits: 1)

        if indexed >= options.threshold {
            let graph = try await waitForGraph(tenant: tenant, since: loading)
            print(
                "\(indexed) chunks: HNSW graph in use \(fixed(graph.seconds, 1)) s after the first search"
                    + " (recall@10 the service measured: \(graph.recall))")
            metric("\(name)_graph_s", graph.seconds, digits: 1)
            metric("\(name)_service_recall_at_10", graph.recall)
        }

        for mode in [Agentplane_V1_SearchMode.lexical, .vector, .hybrid] {
            for query in queries.prefix(options.warmup) { _ = try await calls.search(query, mode: mode) }
            var latencies: [Double] = []
            var answered = 0
            for query in queries.prefix(options.queries) {
                let (results, took) = try await calls.search(query, mode: mode)
                if !results.isEmpty { answered += 1 }
                latencies.append(took)
            }
            let label = "\(mode)".lowercased()
            report("\(indexed) chunks: \(label) search", "\(name)_\(label)", Stats(latencies))
            metric("\(name)_\(label)_answered", Double(answered) / Double(latencies.count))
            // Every query's words come from the corpus: lexical may miss a rare word, vector never.
            if answered * 10 < latencies.count * (mode == .lexical ? 8 : 10) {
                throw BenchmarkError("\(label) search answered only \(answered) of \(latencies.count) queries")
            }
        }

        if indexed >= options.threshold {
            try await measureRecall(calls, name: name, queries: queries, documentIDs: documentIDs)
        }

        let deleting = clock.now
        var deleted = 0
        for documentID in documentIDs { deleted += try await calls.delete(documentID) }
        metric("\(name)_delete_s", milliseconds(clock.now - deleting) / 1000, digits: 1)
        guard deleted == indexed else { throw BenchmarkError("deleted \(deleted) chunks of \(indexed)") }
    }

    /// Waits until the service has installed the tenant's HNSW graph, which the first search
    /// started building in the background (searches use the exact scan meanwhile); the seconds since
    /// `start` and the recall@10 the service measured on installing it.
    func waitForGraph(tenant: String, since start: ContinuousClock.Instant) async throws -> (
        seconds: Double, recall: Double
    ) {
        var reported = clock.now
        while true {
            if let recall = watcher.graphRecall(of: tenant) { return (milliseconds(clock.now - start) / 1000, recall) }
            guard clock.now - start < .seconds(options.graphTimeout) else {
                throw BenchmarkError("no HNSW graph \(options.graphTimeout) s after the first search")
            }
            if clock.now - reported > .seconds(30) {
                reported = clock.now
                progress("waiting for the HNSW graph (\(fixed(milliseconds(clock.now - start) / 1000, 0)) s)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// recall@10 of vector search (the HNSW graph) against the exact scan over every chunk, which
    /// the service runs for a filtered search; the filter names every document, so it drops nothing.
    func measureRecall(
        _ calls: KnowledgeBaseCalls, name: String, queries: [String], documentIDs: [String]
    ) async throws {
        var found = 0
        var wanted = 0
        var exactLatencies: [Double] = []
        for query in queries.prefix(options.recallQueries) {
            let approximate = Set(try await calls.search(query, mode: .vector).results.map(\.chunkID))
            let (exact, took) = try await calls.search(query, mode: .vector, documentIDs: documentIDs)
            exactLatencies.append(took)
            found += exact.filter { approximate.contains($0.chunkID) }.count
            wanted += exact.count
        }
        guard wanted > 0 else { throw BenchmarkError("the exact scan found nothing") }
        let recall = Double(found) / Double(wanted)
        print(
            "recall@10 of vector search (HNSW) against the exact scan: \(fixed(recall, 4))"
                + " (\(found) of \(wanted) results, \(exactLatencies.count) queries)")
        metric("\(name)_recall_at_10", recall, digits: 4)
        report(
            "exact scan (vector search filtered by every document id)", "\(name)_exact_vector", Stats(exactLatencies))
    }
}
