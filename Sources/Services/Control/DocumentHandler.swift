import Crypto
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity

/// DocumentService: files stored in Postgres and indexed into the knowledge base.
struct DocumentHandler: Agentplane_V1_DocumentService.ServiceProtocol {
    let context: ControlContext
    let peers: PeerClients
    let indexer: DocumentIndexer
    static let maximumChunkBytes = 1 << 20
    static let downloadChunkBytes = 256 * 1024
    /// Text formats the knowledge base indexes; other types are stored only.
    static let indexedTypes: Set<String> = ["text/plain", "text/markdown", "text/html", "text/csv", "application/json"]
    /// Default of a tenant's max_document_bytes (common.proto), capped by DOCUMENT_MAX_BYTES.
    static let tenantDefaultMaximum: Int64 = 50 << 20

    func uploadDocument(
        requests: RequestStream<Agentplane_V1_UploadDocumentRequest>, context server: ServerContext
    ) async throws -> Agentplane_V1_UploadDocumentResponse {
        let caller = try AuthContext.require(minimum: .builder)
        let limit = try await maximumBytes(tenant: caller.tenantID)
        var metadata: Agentplane_V1_UploadDocumentMetadata?
        var content: [UInt8] = []
        for try await message in requests {
            switch message.part {
            case .metadata(let value):
                guard metadata == nil else {
                    throw RPCErrors.invalid(
                        "metadata", "UNEXPECTED_METADATA", "only the first message carries metadata")
                }
                metadata = value
            case .chunk(let chunk):
                guard metadata != nil else {
                    throw RPCErrors.invalid("metadata", "MISSING_METADATA", "the first message must carry metadata")
                }
                if chunk.count > Self.maximumChunkBytes {
                    throw RPCError(code: .resourceExhausted, message: "a chunk must be at most 1 MiB")
                }
                if content.count + chunk.count > limit {
                    throw RPCError(
                        code: .resourceExhausted, message: "the document exceeds the limit of \(limit) bytes")
                }
                content.append(contentsOf: chunk)
            case nil: break
            }
        }
        guard let metadata else {
            throw RPCErrors.invalid("metadata", "MISSING_METADATA", "the first message must carry metadata")
        }
        try RPCErrors.requireText(metadata.name, field: "name", maximum: 255)
        if metadata.tags.count > 50 || metadata.tags.contains(where: { $0.isEmpty || $0.count > 100 }) {
            throw RPCErrors.invalid("tags", "INVALID_TAGS", "at most 50 tags of 1-100 characters")
        }
        let contentType = try Self.contentType(declared: metadata.contentType, name: metadata.name)
        let indexed = Self.indexedTypes.contains(contentType)
        if indexed, String(validating: content, as: UTF8.self) == nil || content.contains(0) {
            throw RPCErrors.invalid(
                "content_type", "NOT_TEXT", "the content is not UTF-8 text, so it cannot be \(contentType)")
        }
        var document = Agentplane_V1_Document()
        document.id = UUID().uuidString.lowercased()
        document.name = metadata.name
        document.contentType = contentType
        document.sizeBytes = Int64(content.count)
        document.sha256 = SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()
        document.tags = metadata.tags
        document.uploadedBy = caller.effectiveUserID
        if !indexed {
            document.status = .notIndexed
            document.statusMessage = "\(contentType) is stored only; indexed types: \(Self.indexedTypes.sorted())"
        } else if metadata.skipIndexing {
            document.status = .notIndexed
            document.statusMessage = "skip_indexing was set"
        } else if content.isEmpty {
            document.status = .notIndexed
            document.statusMessage = "the document is empty"
        } else {
            document.status = .processing
        }
        let pending = document
        let stored = try await self.context.transaction(tenant: caller.tenantID) { session in
            try await DocumentStore(session: session, tenant: caller.tenantID).insert(pending, content: content)
        }
        await self.context.events.publish(
            tenant: caller.tenantID, type: "document.uploaded", subject: stored.id, actor: caller.effectiveUserID,
            fields: ["size_bytes": String(stored.sizeBytes)])
        if stored.status == .processing {
            let text = String(decoding: content, as: UTF8.self)
            // Inherits the caller's identity, so the KB call carries a service token for this tenant.
            Task { await indexer.index(stored, text: text, caller: caller) }
        }
        var response = Agentplane_V1_UploadDocumentResponse()
        response.document = stored
        return response
    }

    func getDocument(request: Agentplane_V1_GetDocumentRequest, context server: ServerContext) async throws
        -> Agentplane_V1_GetDocumentResponse
    {
        let caller = try Self.reader()
        var response = Agentplane_V1_GetDocumentResponse()
        response.document = try await find(request.documentID, caller: caller)
        return response
    }

    func listDocuments(request: Agentplane_V1_ListDocumentsRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ListDocumentsResponse
    {
        let caller = try Self.reader()
        let limit = try Pagination.pageSize(request.pageSize)
        let filters =
            "documents|\(request.tags.sorted().joined(separator: ","))|\(request.status.rawValue)|\(request.nameContains)"
        var after: (Int64, String)?
        if let cursor = try Pagination.cursor(from: request.pageToken, filters: filters) {
            guard cursor.count == 2, let micros = Int64(cursor[0]) else {
                throw RPCErrors.invalid("page_token", "INVALID_PAGE_TOKEN", "page_token is not one this call returned")
            }
            after = (micros, cursor[1])
        }
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            try await DocumentStore(session: session, tenant: caller.tenantID).list(
                tags: request.tags, status: request.status, nameContains: request.nameContains, after: after,
                limit: limit)
        }
        var response = Agentplane_V1_ListDocumentsResponse()
        response.documents = rows.prefix(limit).map(\.0)
        if rows.count > limit, let last = rows.prefix(limit).last {
            response.nextPageToken = Pagination.token(cursor: [String(last.1), last.0.id], filters: filters)
        }
        return response
    }

    func deleteDocument(request: Agentplane_V1_DeleteDocumentRequest, context server: ServerContext) async throws
        -> Agentplane_V1_DeleteDocumentResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        let document = try await find(request.documentID, caller: caller)
        if document.status != .notIndexed {
            // The knowledge base first: when it cannot be updated, nothing is deleted and a retry is safe.
            var remove = Agentplane_V1_DeleteIndexedDocumentRequest()
            remove.documentID = document.id
            do {
                let client = Agentplane_V1_KnowledgeBaseService.Client(try peers.client(for: .kbSearch))
                _ = try await client.deleteDocument(remove)
            } catch let error as RPCError where error.code == .notFound {
                // Not (or no longer) indexed: nothing to remove there.
            } catch let error as RPCError {
                throw RPCError(
                    code: .unavailable,
                    message: "the knowledge base could not be updated (\(error.code)); nothing was deleted, retry")
            }
        }
        let deleted = try await context.transaction(tenant: caller.tenantID) { session in
            try await DocumentStore(session: session, tenant: caller.tenantID).delete(id: document.id)
        }
        guard deleted else { throw RPCErrors.notFound("document", request.documentID) }
        await context.events.publish(
            tenant: caller.tenantID, type: "document.deleted", subject: document.id, actor: caller.effectiveUserID)
        return Agentplane_V1_DeleteDocumentResponse()
    }

    func downloadDocument(
        request: Agentplane_V1_DownloadDocumentRequest,
        response: ResponseWriter<Agentplane_V1_DownloadDocumentResponse>,
        context server: ServerContext
    ) async throws {
        let caller = try Self.reader()
        let document = try await find(request.documentID, caller: caller)
        try await response.write(.init(part: .document(document)))
        var offset = 0
        // One short read per chunk: the whole content is never held in memory here.
        while offset < Int(document.sizeBytes) {
            let start = offset
            let part = try await context.transaction(tenant: caller.tenantID) { session in
                try await DocumentStore(session: session, tenant: caller.tenantID).content(
                    id: document.id, offset: start, length: Self.downloadChunkBytes)
            }
            if part.isEmpty { break }
            try await response.write(.init(part: .chunk(Data(part))))
            offset += part.count
        }
    }

    // MARK: - Helpers

    /// The tenant's max_document_bytes (default 50 MiB), never above DOCUMENT_MAX_BYTES.
    private func maximumBytes(tenant: String) async throws -> Int {
        let configured = try await context.tenants { try await $0.tenant(id: tenant) }?.settings?.maxDocumentBytes ?? 0
        let tenantLimit = configured > 0 ? configured : Self.tenantDefaultMaximum
        return Int(min(tenantLimit, Int64(context.settings.documentMaxBytes)))
    }

    /// The MIME type (lower-cased, without parameters): the declared one, else guessed from the name.
    static func contentType(declared: String, name: String) throws -> String {
        let type =
            declared.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if type.isEmpty {
            switch (name as NSString).pathExtension.lowercased() {
            case "md", "markdown": return "text/markdown"
            case "txt", "text", "log": return "text/plain"
            case "html", "htm": return "text/html"
            case "csv": return "text/csv"
            case "json": return "application/json"
            case "pdf": return "application/pdf"
            default: return "application/octet-stream"
            }
        }
        let parts = type.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.+-_")
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(allowed.contains) }), type.count <= 100
        else {
            throw RPCErrors.invalid(
                "content_type", "INVALID_CONTENT_TYPE", "content_type must be a MIME type like text/markdown")
        }
        return type
    }

    private func find(_ id: String, caller: AuthContext) async throws -> Agentplane_V1_Document {
        if id.isEmpty { throw RPCErrors.invalid("document_id", "MISSING_FIELD", "document_id is required") }
        let document = try await context.transaction(tenant: caller.tenantID) { session in
            try await DocumentStore(session: session, tenant: caller.tenantID).document(id: id)
        }
        guard let document else { throw RPCErrors.notFound("document", id) }
        return document
    }

    /// Readers: member or above, or a service token.
    private static func reader() throws -> AuthContext {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        if caller.role == .service { return caller }
        return try AuthContext.require(minimum: .member)
    }
}
