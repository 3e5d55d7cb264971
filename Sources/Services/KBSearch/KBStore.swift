import FoundationEssentials
import RuntimePostgres

/// A chunk ready to store: its place, text and embedding.
struct StoredChunkInput: Sendable {
    var chunk: Chunk
    var embedding: [Float]
}

/// A chunk as search results show it.
struct ChunkRecord: Sendable {
    var id: Int64
    var documentID: String
    var title: String
    var chunkIndex: Int
    var text: String
    var headingPath: [String]
}

/// A chunk's vector, what the in-memory indexes filter on, and its lexemes when asked for.
struct VectorRow: Sendable {
    var id: Int64
    var documentID: String
    var tags: [String]
    var vector: [Float]
    var terms: IndexedTerms?
}

/// The tenant's index totals.
struct IndexStats: Sendable {
    var documentCount: Int64
    var chunkCount: Int64
    var textBytes: Int64
    var embeddingModel: String
    var embeddingDimensions: Int
    var lastIndexedAt: Date?
}

/// Which chunks a search may return.
struct SearchFilter: Sendable {
    var documentIDs: Set<String>
    var tags: Set<String>

    var isEmpty: Bool { documentIDs.isEmpty && tags.isEmpty }
}

/// The `kb` schema: every statement filters by tenant and runs in a transaction bound to it, so
/// row-level security checks the tenant a second time.
struct KBStore: Sendable {
    let pool: PostgresPool

    /// Chunks inserted per statement when a document is stored.
    private static let insertBatch = 200

    /// Replaces the document's chunks with `chunks` in one transaction, logging the change.
    func replaceDocument(
        tenant: String, documentID: String, title: String, tags: [String], contentType: String, textBytes: Int,
        chunks: [StoredChunkInput], model: String, dimensions: Int
    ) async throws -> Date {
        try await pool.transaction(tenant: tenant) { session in
            try await Self.lockTenantWrites(session, tenant)
            let previous = try await session.query(
                "DELETE FROM kb.documents WHERE tenant_id = $1 AND document_id = $2 RETURNING chunk_count", tenant,
                documentID
            ).first?.decode("chunk_count", as: Int.self)
            try await Self.addToTenantCount(session, tenant, chunks.count - (previous ?? 0))
            let inserted = try await session.query(
                """
                INSERT INTO kb.documents (tenant_id, document_id, title, tags, content_type, text_bytes, chunk_count,
                    embedding_model, embedding_dimensions)
                VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8, $9)
                RETURNING extract(epoch FROM indexed_at)::float8 AS indexed_at
                """, tenant, documentID, title, PostgresText.array(tags), contentType, textBytes, chunks.count, model,
                dimensions)
            var start = 0
            while start < chunks.count {
                let batch = chunks[start..<min(chunks.count, start + Self.insertBatch)]
                start += batch.count
                _ = try await session.query(
                    """
                    INSERT INTO kb.chunks (tenant_id, document_id, chunk_index, title, tags, heading_path, text, tsv,
                        embedding)
                    SELECT $1, $2, u.chunk_index, $3, $4::text[], u.heading_path::text[], u.text,
                        setweight(to_tsvector('english', $3), 'A')
                        || setweight(to_tsvector('english', array_to_string(u.heading_path::text[], ' ')), 'B')
                        || to_tsvector('english', u.text),
                        u.embedding
                    FROM unnest($5::int[], $6::text[], $7::text[], $8::bytea[])
                        AS u (chunk_index, heading_path, text, embedding)
                    """, tenant, documentID, title, PostgresText.array(tags),
                    "{" + batch.map { String($0.chunk.index) }.joined(separator: ",") + "}",
                    PostgresText.array(batch.map { PostgresText.array($0.chunk.headingPath) }),
                    PostgresText.array(batch.map(\.chunk.text)),
                    PostgresText.array(batch.map { VectorMath.bytes(of: $0.embedding).postgresText }))
            }
            _ = try await session.query(
                "INSERT INTO kb.changes (tenant_id, document_id) VALUES ($1, $2)", tenant, documentID)
            let seconds = try inserted.first?.decode("indexed_at", as: Double.self) ?? 0
            return Date(timeIntervalSince1970: seconds)
        }
    }

    /// Removes a document; the number of chunks it had, or nil when it was not indexed.
    func deleteDocument(tenant: String, documentID: String) async throws -> Int? {
        try await pool.transaction(tenant: tenant) { session in
            try await Self.lockTenantWrites(session, tenant)
            let rows = try await session.query(
                "DELETE FROM kb.documents WHERE tenant_id = $1 AND document_id = $2 RETURNING chunk_count", tenant,
                documentID)
            guard let row = rows.first else { return nil }
            let count = try row.decode("chunk_count", as: Int.self)
            try await Self.addToTenantCount(session, tenant, -count)
            _ = try await session.query(
                "INSERT INTO kb.changes (tenant_id, document_id) VALUES ($1, $2)", tenant, documentID)
            return count
        }
    }

    /// Keeps `kb.index_tenants` in step with the tenant's chunks, in the writer's transaction.
    private static func addToTenantCount(_ session: PostgresSession, _ tenant: String, _ delta: Int) async throws {
        _ = try await session.query(
            """
            INSERT INTO kb.index_tenants (tenant, chunk_count) VALUES ($1, $2)
            ON CONFLICT (tenant) DO UPDATE SET chunk_count = kb.index_tenants.chunk_count + EXCLUDED.chunk_count
            """, tenant, delta)
    }

    /// Tenants holding at least `minimumChunks` chunks, largest first.
    func largeTenants(minimumChunks: Int) async throws -> [String] {
        try await pool.query(
            "SELECT tenant FROM kb.index_tenants WHERE chunk_count >= $1 ORDER BY chunk_count DESC", minimumChunks
        ).map { try $0.decode("tenant", as: String.self) }
    }

    /// Serialises one tenant's writers, so its change log's sequence numbers commit in order and a
    /// replica reading "seq > watermark" never skips a change that commits late.
    private static func lockTenantWrites(_ session: PostgresSession, _ tenant: String) async throws {
        _ = try await session.query("SELECT pg_advisory_xact_lock(hashtextextended('kb:' || $1, 0))", tenant)
    }

    /// The tenant's totals.
    func stats(tenant: String) async throws -> IndexStats {
        try await pool.transaction(tenant: tenant) { session in
            let row = try await session.query(
                """
                SELECT count(*) AS documents, coalesce(sum(chunk_count), 0) AS chunks,
                    coalesce(sum(text_bytes), 0) AS bytes,
                    extract(epoch FROM max(indexed_at))::float8 AS last_indexed_at,
                    (SELECT embedding_model FROM kb.documents WHERE tenant_id = $1
                        ORDER BY indexed_at DESC LIMIT 1) AS model,
                    (SELECT embedding_dimensions FROM kb.documents WHERE tenant_id = $1
                        ORDER BY indexed_at DESC LIMIT 1) AS dimensions
                FROM kb.documents WHERE tenant_id = $1
                """, tenant
            ).first
            guard let row else {
                return IndexStats(
                    documentCount: 0, chunkCount: 0, textBytes: 0, embeddingModel: "",
                    embeddingDimensions: 0, lastIndexedAt: nil)
            }
            return IndexStats(
                documentCount: try row.decode("documents"), chunkCount: try row.decode("chunks"),
                textBytes: try row.decode("bytes"), embeddingModel: row["model"] ?? "",
                embeddingDimensions: row["dimensions"].flatMap { Int($0) } ?? 0,
                lastIndexedAt: row["last_indexed_at"].flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) })
        }
    }

    /// The best chunks by full-text rank of any of the query's words, each with its record: one
    /// statement, so a search answered here costs one transaction.
    func lexical(tenant: String, query: String, limit: Int, filter: SearchFilter) async throws
        -> [(id: Int64, score: Double, record: ChunkRecord)]
    {
        let expression = PostgresText.anyWordQuery(query)
        guard !expression.isEmpty else { return [] }
        return try await pool.transaction(tenant: tenant) { session in
            // The one statement carries the COMMIT: one round trip for the whole search.
            let rows = try await session.queryCommitting(
                """
                SELECT c.id, ts_rank_cd(c.tsv, q.q) AS score, c.document_id, c.title, c.chunk_index, c.text,
                    c.heading_path
                FROM kb.chunks c, to_tsquery('english', $2) AS q (q)
                WHERE c.tenant_id = $1 AND c.tsv @@ q.q
                    AND (cardinality($3::text[]) = 0 OR c.document_id = ANY ($3::text[]))
                    AND c.tags @> $4::text[]
                ORDER BY score DESC, c.id
                LIMIT $5
                """, tenant, expression, PostgresText.array(filter.documentIDs.sorted()),
                PostgresText.array(filter.tags.sorted()), limit)
            return try rows.map {
                (try $0.decode("id", as: Int64.self), try $0.decode("score", as: Double.self), try Self.record($0))
            }
        }
    }

    /// The chunks with these ids, for results.
    func records(tenant: String, ids: [Int64]) async throws -> [Int64: ChunkRecord] {
        guard !ids.isEmpty else { return [:] }
        return try await pool.transaction(tenant: tenant) { session in
            let rows = try await session.query(
                """
                SELECT id, document_id, title, chunk_index, text, heading_path FROM kb.chunks
                WHERE tenant_id = $1 AND id = ANY ($2::bigint[])
                """, tenant, "{" + ids.map { String($0) }.joined(separator: ",") + "}")
            var records: [Int64: ChunkRecord] = [:]
            for row in rows {
                let record = try Self.record(row)
                records[record.id] = record
            }
            return records
        }
    }

    /// A chunk's record from a row with its columns.
    private static func record(_ row: PostgresRow) throws -> ChunkRecord {
        ChunkRecord(
            id: try row.decode("id"), documentID: try row.decode("document_id"), title: try row.decode("title"),
            chunkIndex: try row.decode("chunk_index"), text: try row.decode("text"),
            headingPath: PostgresText.parseArray(row["heading_path"] ?? "{}"))
    }

    /// The last change's sequence number for the tenant (0 when none), and its chunk count.
    func watermark(tenant: String) async throws -> (seq: Int64, chunks: Int) {
        try await pool.transaction(tenant: tenant) { session in
            let row = try await session.query(
                """
                SELECT (SELECT coalesce(max(seq), 0) FROM kb.changes WHERE tenant_id = $1) AS seq,
                    (SELECT count(*) FROM kb.chunks WHERE tenant_id = $1) AS chunks
                """, tenant
            ).first
            return (try row?.decode("seq", as: Int64.self) ?? 0, try row?.decode("chunks", as: Int.self) ?? 0)
        }
    }

    /// The lexemes PostgreSQL's English configuration makes of a query (stop words dropped).
    func lexemes(of query: String) async throws -> [String] {
        try await pool.query("SELECT unnest(tsvector_to_array(to_tsvector('english', $1))) AS lexeme", query)
            .map { try $0.decode("lexeme", as: String.self) }
    }

    /// Documents changed after `seq`, and the newest sequence number among them.
    func changes(tenant: String, after seq: Int64) async throws -> (documents: Set<String>, newest: Int64) {
        try await pool.transaction(tenant: tenant) { session in
            let rows = try await session.query(
                "SELECT seq, document_id FROM kb.changes WHERE tenant_id = $1 AND seq > $2 ORDER BY seq", tenant, seq)
            var documents = Set<String>()
            var newest = seq
            for row in rows {
                documents.insert(try row.decode("document_id"))
                newest = max(newest, try row.decode("seq", as: Int64.self))
            }
            return (documents, newest)
        }
    }

    /// Rows read per statement when a tenant's chunks are loaded, so a large knowledge base is
    /// never held twice (as result text and as vectors) all at once.
    private static let loadPage = 2000

    /// The vectors of the tenant's chunks, all of them or those of `documents`, with their
    /// lexemes when `withTerms`.
    func vectors(tenant: String, documents: Set<String>?, withTerms: Bool) async throws -> [VectorRow] {
        var loaded: [VectorRow] = []
        var after: Int64 = 0
        while true {
            let page = try await pool.transaction(tenant: tenant) { session in
                let rows = try await session.query(
                    """
                    SELECT id, document_id, tags, embedding, CASE WHEN $3 THEN tsv::text END AS tsv FROM kb.chunks
                    WHERE tenant_id = $1 AND ($2::text[] IS NULL OR document_id = ANY ($2::text[])) AND id > $4
                    ORDER BY id
                    LIMIT $5
                    """, tenant, documents.map { PostgresText.array($0.sorted()) }, withTerms, after, Self.loadPage)
                return try rows.map { row in
                    VectorRow(
                        id: try row.decode("id"), documentID: try row.decode("document_id"),
                        tags: PostgresText.parseArray(row["tags"] ?? "{}"),
                        vector: VectorMath.vector(from: try row.decode("embedding", as: [UInt8].self)),
                        terms: row["tsv"].map { IndexedTerms(tsvector: $0) })
                }
            }
            loaded += page
            guard page.count == Self.loadPage, let last = page.last else { return loaded }
            after = last.id
        }
    }
}
