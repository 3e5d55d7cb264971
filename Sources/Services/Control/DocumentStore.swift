import Foundation
import RPCModels
import RuntimePostgres

/// Documents and their content, in one tenant.
struct DocumentStore: Sendable {
    let session: PostgresSession
    let tenant: String

    static let columns = """
        id, name, content_type, size_bytes, sha256, tags::text AS tags, status, status_message, chunk_count,
        uploaded_by, \(RowDecoding.micros("created_at")), \(RowDecoding.micros("indexed_at"))
        """

    func insert(_ document: Agentplane_V1_Document, content: [UInt8]) async throws -> Agentplane_V1_Document {
        let rows = try await session.query(
            """
            INSERT INTO control.documents (tenant_id, id, name, content_type, size_bytes, sha256, tags, status,
                status_message, uploaded_by, content)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11) RETURNING \(Self.columns)
            """,
            [
                tenant, document.id, document.name, document.contentType, document.sizeBytes, document.sha256,
                RowDecoding.json(document.tags), Int(document.status.rawValue), document.statusMessage,
                document.uploadedBy, content,
            ])
        guard let row = rows.first else { throw PostgresError(code: .server, message: "document not readable") }
        return try Self.document(row)
    }

    func document(id: String) async throws -> Agentplane_V1_Document? {
        try await session.query(
            "SELECT \(Self.columns) FROM control.documents WHERE tenant_id = $1 AND id = $2", tenant, id
        ).first.map(Self.document)
    }

    /// Bytes `offset ..< offset + length` of the content (1-based for Postgres' substring).
    func content(id: String, offset: Int, length: Int) async throws -> [UInt8] {
        guard
            let row = try await session.query(
                """
                SELECT substring(content FROM $3 FOR $4) AS part FROM control.documents
                WHERE tenant_id = $1 AND id = $2
                """, tenant, id, offset + 1, length
            ).first
        else { return [] }
        return try row.decode("part", as: [UInt8].self)
    }

    /// The whole content, for indexing again.
    func content(id: String) async throws -> [UInt8]? {
        try await session.query(
            "SELECT content FROM control.documents WHERE tenant_id = $1 AND id = $2", tenant, id
        ).first.map { try $0.decode("content", as: [UInt8].self) }
    }

    /// Newest first after the cursor (created µs, id); one extra row tells a next page exists.
    func list(
        tags: [String], status: Agentplane_V1_DocumentStatus, nameContains: String, after: (Int64, String)?, limit: Int
    ) async throws -> [(Agentplane_V1_Document, Int64)] {
        var conditions = ["tenant_id = $1"]
        var parameters: [(any PostgresEncodable)?] = [tenant]
        func bind(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if !tags.isEmpty { conditions.append("tags @> \(bind(RowDecoding.json(tags)))::jsonb") }
        if status != .unspecified { conditions.append("status = \(bind(Int(status.rawValue)))") }
        if !nameContains.isEmpty {
            conditions.append("name ILIKE \(bind("%" + UserStore.escapeLike(nameContains) + "%"))")
        }
        if let after {
            let micros = bind(after.0)
            let id = bind(after.1)
            conditions.append("((extract(epoch FROM created_at) * 1000000)::bigint, id) < (\(micros)::bigint, \(id))")
        }
        let sql = """
            SELECT \(Self.columns) FROM control.documents WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, id DESC LIMIT \(bind(limit + 1))
            """
        return try await session.query(sql, parameters).map { row in
            (try Self.document(row), try row.decode("created_at_us", as: Int64.self))
        }
    }

    /// Records the outcome of indexing; false when the document was deleted meanwhile.
    func setStatus(id: String, _ status: Agentplane_V1_DocumentStatus, message: String, chunks: Int32) async throws
        -> Bool
    {
        !(try await session.query(
            """
            UPDATE control.documents SET status = $3, status_message = $4, chunk_count = $5,
                indexed_at = CASE WHEN $3 = \(Agentplane_V1_DocumentStatus.ready.rawValue) THEN now() ELSE NULL END
            WHERE tenant_id = $1 AND id = $2 RETURNING id
            """, tenant, id, Int(status.rawValue), message, Int(chunks)
        ).isEmpty)
    }

    /// Marks a document still PROCESSING as FAILED with `message`; false when it is no longer
    /// PROCESSING (indexed meanwhile, or deleted).
    func failProcessing(id: String, message: String) async throws -> Bool {
        !(try await session.query(
            """
            UPDATE control.documents SET status = $3, status_message = $4, indexed_at = NULL
            WHERE tenant_id = $1 AND id = $2 AND status = $5 RETURNING id
            """, tenant, id, Int(Agentplane_V1_DocumentStatus.failed.rawValue), message,
            Int(Agentplane_V1_DocumentStatus.processing.rawValue)
        ).isEmpty)
    }

    func delete(id: String) async throws -> Bool {
        !(try await session.query(
            "DELETE FROM control.documents WHERE tenant_id = $1 AND id = $2 RETURNING id", tenant, id
        ).isEmpty)
    }

    static func document(_ row: PostgresRow) throws -> Agentplane_V1_Document {
        var document = Agentplane_V1_Document()
        document.id = try row.decode("id")
        document.name = try row.decode("name")
        document.contentType = try row.decode("content_type")
        document.sizeBytes = try row.decode("size_bytes")
        document.sha256 = try row.decode("sha256")
        document.tags = RowDecoding.decodeJSON(row["tags"], as: [String].self, default: [])
        document.status = Agentplane_V1_DocumentStatus(rawValue: Int32(try row.decode("status", as: Int.self)))
        document.statusMessage = try row.decode("status_message")
        document.chunkCount = Int32(try row.decode("chunk_count", as: Int.self))
        document.uploadedBy = try row.decode("uploaded_by")
        document.createdAt = try RowDecoding.timestamp(row, "created_at")
        document.indexedAt = try RowDecoding.timestamp(row, "indexed_at")
        return document
    }
}
