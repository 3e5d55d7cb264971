import Logging
import Synchronization

/// One tenant's chunks in memory: vectors for an exact SIMD scan, and from `threshold` chunks on an
/// hnswlib graph and a BM25 lexical index; brought up to date with the `kb.changes` log before
/// every search, so each replica sees the writes of every other one.
actor TenantVectorIndex {
    /// How the approximate index is built and searched.
    struct Tuning: Sendable {
        var threshold: Int
        var m: Int
        var efConstruction: Int
        var efSearch: Int
    }

    nonisolated let tenant: String
    let tuning: Tuning
    let logger: Logger

    /// The last change applied; -1 before the first load.
    private var watermark: Int64 = -1
    private var dimensions = 0
    private var ids: [Int64] = []
    private var documentOf: [String] = []
    private var vectors: [Float] = []
    private var positions: [Int64: Int] = [:]
    private var chunksOfDocument: [String: [Int64]] = [:]
    private var tagsOfDocument: [String: Set<String>] = [:]
    private var approximate: ApproximateIndex?
    private var build: Task<Void, Never>?
    private var lexical: LexicalIndex?
    private var needsFullReload = false
    /// recall@10 of the approximate index against the exact scan, measured when it was built.
    private(set) var approximateRecall: Double?

    init(tenant: String, tuning: Tuning, logger: Logger) {
        self.tenant = tenant
        self.tuning = tuning
        self.logger = logger
    }

    /// Chunks held.
    var count: Int { ids.count }

    /// Applies every change logged since the last one applied (all chunks on first use, and when
    /// the tenant grows past the threshold, since the lexical index needs every chunk's lexemes).
    func catchUp(_ store: KBStore) async throws {
        let from = watermark
        if from < 0 || needsFullReload {
            let head = try await store.watermark(tenant: tenant)
            let withTerms = head.chunks >= tuning.threshold
            let rows = try await store.vectors(tenant: tenant, documents: nil, withTerms: withTerms)
            // Another caller may have loaded meanwhile; its state is as new as this one.
            guard watermark == from else { return }
            lexical = withTerms ? LexicalIndex() : nil
            replace(documents: nil, with: rows)
            watermark = head.seq
            needsFullReload = false
            // The graph is built in the background; until it is ready, searches use the exact scan.
            maintainApproximateIndex()
            return
        }
        let changes = try await store.changes(tenant: tenant, after: from)
        guard !changes.documents.isEmpty else {
            // A build cancelled earlier (its caller went away) starts again.
            maintainApproximateIndex()
            return
        }
        let rows = try await store.vectors(tenant: tenant, documents: changes.documents, withTerms: lexical != nil)
        // Applying an older read over a newer one would bring deleted chunks back.
        guard watermark == from else { return }
        replace(documents: changes.documents, with: rows)
        watermark = changes.newest
        if lexical != nil, ids.count < tuning.threshold / 2 {
            lexical = nil
        } else if lexical == nil, ids.count >= tuning.threshold {
            needsFullReload = true
            try await catchUp(store)
            return
        }
        maintainApproximateIndex()
    }

    /// Whether lexical search may run in memory: the tenant is not loaded yet, or is at or above
    /// the threshold.
    var mayHaveLexicalIndex: Bool { watermark < 0 || lexical != nil }

    /// BM25 over the in-memory lexical index; nil when the tenant has none (below the threshold).
    func lexicalSearch(lexemes: [String], k: Int) -> [(id: Int64, score: Float)]? {
        lexical?.search(lexemes: lexemes, k: k)
    }

    /// The `k` chunks most similar to `query` (cosine, as vectors are unit length) passing `filter`.
    func search(_ query: [Float], k: Int, filter: SearchFilter) -> [(id: Int64, score: Float)] {
        guard k > 0, !ids.isEmpty, query.count == dimensions else { return [] }
        if filter.isEmpty, let approximate {
            let found = approximate.search(query, k: k, ef: max(tuning.efSearch, k))
            return found.compactMap { id in
                guard let position = positions[id] else { return nil }
                return (id, score(query, at: position))
            }
        }
        return exactSearch(query, k: k, filter: filter)
    }

    /// The exact scan over every chunk passing `filter` (SIMD, in the C++ target: fast even in
    /// debug builds).
    func exactSearch(_ query: [Float], k: Int, filter: SearchFilter) -> [(id: Int64, score: Float)] {
        let mask = allowed(filter).map { documents in documentOf.map { documents.contains($0) ? UInt8(1) : 0 } }
        return ExactScan.top(k, of: query, in: vectors, count: ids.count, dimensions: dimensions, allowed: mask)
            .map { (ids[$0.row], $0.score) }
    }

    /// The documents a filter lets through; nil for all.
    private func allowed(_ filter: SearchFilter) -> Set<String>? {
        guard !filter.isEmpty else { return nil }
        var documents = filter.documentIDs.isEmpty ? Set(chunksOfDocument.keys) : filter.documentIDs
        if !filter.tags.isEmpty {
            documents = documents.filter { filter.tags.isSubset(of: tagsOfDocument[$0] ?? []) }
        }
        return documents
    }

    private func score(_ query: [Float], at position: Int) -> Float {
        query.withUnsafeBufferPointer { query in
            vectors.withUnsafeBufferPointer { all in
                VectorMath.dot(
                    query, UnsafeBufferPointer(rebasing: all[(position * dimensions)..<((position + 1) * dimensions)]),
                    count: dimensions)
            }
        }
    }

    /// Drops the chunks of `documents` (every chunk when nil) and adds `rows`; a graph being built
    /// gets them when it is installed.
    private func replace(documents: Set<String>?, with rows: [VectorRow]) {
        if let documents {
            for document in documents {
                for id in chunksOfDocument[document] ?? [] {
                    remove(id)
                    lexical?.remove(id: id)
                }
                chunksOfDocument[document] = nil
                tagsOfDocument[document] = nil
            }
        } else {
            ids.removeAll()
            documentOf.removeAll()
            vectors.removeAll()
            positions.removeAll()
            chunksOfDocument.removeAll()
            tagsOfDocument.removeAll()
            approximate = nil
        }
        for row in rows {
            if dimensions == 0 { dimensions = row.vector.count }
            // A model change leaves vectors of another size; they cannot be compared, so skip them.
            guard row.vector.count == dimensions else { continue }
            positions[row.id] = ids.count
            ids.append(row.id)
            documentOf.append(row.documentID)
            vectors += row.vector
            chunksOfDocument[row.documentID, default: []].append(row.id)
            tagsOfDocument[row.documentID] = Set(row.tags)
            approximate?.add(row.vector, id: row.id)
            if let terms = row.terms { lexical?.add(id: row.id, terms: terms) }
        }
        if ids.isEmpty { dimensions = 0 }
    }

    /// Removes one chunk by moving the last one into its place.
    private func remove(_ id: Int64) {
        guard let position = positions.removeValue(forKey: id) else { return }
        approximate?.remove(id: id)
        let last = ids.count - 1
        if position != last {
            ids[position] = ids[last]
            documentOf[position] = documentOf[last]
            for offset in 0..<dimensions {
                vectors[position * dimensions + offset] = vectors[last * dimensions + offset]
            }
            positions[ids[position]] = position
        }
        ids.removeLast()
        documentOf.removeLast()
        vectors.removeLast(dimensions)
    }

    /// Builds the approximate index once the tenant reaches the threshold, and drops it below half
    /// of it (hysteresis, so a tenant near the threshold does not rebuild back and forth).
    ///
    /// The graph is built off the actor from a snapshot, so searches keep using the exact scan
    /// meanwhile; changes applied during the build are replayed onto it when it is installed.
    private func maintainApproximateIndex() {
        if approximate != nil, ids.count < tuning.threshold / 2 {
            approximate = nil
            approximateRecall = nil
            return
        }
        guard approximate == nil, build == nil, ids.count >= tuning.threshold, dimensions > 0 else { return }
        let snapshotIDs = ids
        let snapshotVectors = vectors
        let dimensions = dimensions
        let tuning = tuning
        build = Task.detached(priority: .utility) { [weak self] in
            // Centered on the snapshot's mean, in part (see ApproximateIndex); later chunks keep that center.
            let index = ApproximateIndex(
                dimensions: dimensions, capacity: snapshotIDs.count * 5 / 4, m: tuning.m,
                efConstruction: tuning.efConstruction,
                center: ApproximateIndex.center(of: snapshotVectors, dimensions: dimensions))
            if let index {
                for (position, id) in snapshotIDs.enumerated() {
                    // A replica shutting down should not finish a build of many seconds.
                    if position % 1024 == 0, Task.isCancelled { break }
                    index.add(Array(snapshotVectors[(position * dimensions)..<((position + 1) * dimensions)]), id: id)
                }
            }
            await self?.install(Task.isCancelled ? nil : index, builtFrom: snapshotIDs, cancelled: Task.isCancelled)
        }
    }

    /// Stops a build in progress (at shutdown).
    func cancelBuild() {
        build?.cancel()
    }

    /// Waits for a build in progress, if any; whether the approximate index is in use.
    func awaitApproximateIndex() async -> Bool {
        if let build {
            await withTaskCancellationHandler {
                await build.value
            } onCancel: {
                build.cancel()
            }
        }
        return approximate != nil
    }

    /// Puts a freshly built graph in use, after replaying the changes made while it was built.
    private func install(_ index: ApproximateIndex?, builtFrom builtIDs: [Int64], cancelled: Bool) {
        build = nil
        guard !cancelled else { return }
        guard let index else {
            logger.warning("kb: could not allocate the approximate index; the exact scan stays in use")
            return
        }
        guard ids.count >= tuning.threshold / 2, index.dimensions == dimensions else { return }
        let built = Set(builtIDs)
        for id in builtIDs where positions[id] == nil { index.remove(id: id) }
        for (position, id) in ids.enumerated() where !built.contains(id) {
            index.add(Array(vectors[(position * dimensions)..<((position + 1) * dimensions)]), id: id)
        }
        approximate = index
        approximateRecall = measureRecall(samples: 50, k: 10)
        logger.info(
            "kb: approximate index built",
            metadata: [
                "tenant": "\(tenant)", "chunks": "\(ids.count)",
                "recall_at_10": "\(approximateRecall.map { ($0 * 1000).rounded() / 1000 } ?? -1)",
            ])
    }

    /// recall@k of the approximate index against the exact scan, over stored vectors as queries.
    func measureRecall(samples: Int, k: Int) -> Double? {
        guard let approximate, !ids.isEmpty else { return nil }
        var generator = SystemRandomNumberGenerator()
        var found = 0
        var wanted = 0
        for _ in 0..<samples {
            let position = Int.random(in: ids.indices, using: &generator)
            var query = Array(vectors[(position * dimensions)..<((position + 1) * dimensions)])
            // A perturbed copy, so the query is not trivially its own nearest neighbour.
            for offset in query.indices { query[offset] += Float.random(in: -0.05...0.05, using: &generator) }
            query = VectorMath.normalized(query)
            let exact = Set(exactSearch(query, k: k, filter: SearchFilter(documentIDs: [], tags: [])).map(\.id))
            let approximateIDs = approximate.search(query, k: k, ef: max(tuning.efSearch, k))
            found += approximateIDs.filter { exact.contains($0) }.count
            wanted += exact.count
        }
        return wanted == 0 ? nil : Double(found) / Double(wanted)
    }
}

/// The in-memory indexes of the tenants this replica has served, at most `maxChunks` chunks in all:
/// past that, the least recently used tenants are dropped (and reloaded on their next search).
final class VectorIndexRegistry: Sendable {
    private struct Entry {
        var index: TenantVectorIndex
        var lastUse: UInt64
        var chunks: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    let tuning: TenantVectorIndex.Tuning
    let maxChunks: Int
    let logger: Logger

    init(tuning: TenantVectorIndex.Tuning, maxChunks: Int, logger: Logger) {
        self.tuning = tuning
        self.maxChunks = maxChunks
        self.logger = logger
    }

    /// Every index held.
    var all: [TenantVectorIndex] { state.withLock { $0.entries.values.map(\.index) } }

    /// The tenant's index (empty until its first catch-up), marked as just used.
    func index(for tenant: String) -> TenantVectorIndex {
        state.withLock { state in
            state.clock += 1
            if let entry = state.entries[tenant] {
                state.entries[tenant]?.lastUse = state.clock
                return entry.index
            }
            let index = TenantVectorIndex(tenant: tenant, tuning: tuning, logger: logger)
            state.entries[tenant] = Entry(index: index, lastUse: state.clock, chunks: 0)
            return index
        }
    }

    /// Brings the index up to date, then evicts other tenants while over the budget.
    func catchUp(_ index: TenantVectorIndex, store: KBStore) async throws {
        try await index.catchUp(store)
        record(tenant: index.tenant, chunks: await index.count)
    }

    /// Notes the tenant's size and drops the least recently used other tenants while the total is
    /// over `maxChunks`.
    func record(tenant: String, chunks: Int) {
        let evicted = state.withLock { state -> [TenantVectorIndex] in
            state.entries[tenant]?.chunks = chunks
            var total = state.entries.values.reduce(0) { $0 + $1.chunks }
            var evicted: [TenantVectorIndex] = []
            while total > maxChunks,
                let victim = state.entries.filter({ $0.key != tenant }).min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                state.entries[victim.key] = nil
                total -= victim.value.chunks
                evicted.append(victim.value.index)
            }
            return evicted
        }
        for index in evicted {
            logger.info("kb: tenant index evicted from memory", metadata: ["tenant": "\(index.tenant)"])
            Task { await index.cancelBuild() }
        }
    }
}
