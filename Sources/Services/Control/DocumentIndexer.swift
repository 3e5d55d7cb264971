import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity

/// Indexes documents into the knowledge base, and restarts indexing that was lost: a document
/// stays PROCESSING forever when the control plane stops between the upload's response and the
/// knowledge base's answer, since the indexing task lives only in that process.
struct DocumentIndexer: Sendable {
    let context: ControlContext
    let peers: PeerClients
    /// Attempts (the upload's included) before a document whose indexing keeps getting lost is FAILED.
    static let maximumAttempts = 3
    /// Documents claimed per sweep query; a sweep repeats the query until none is left.
    static let claimBatch = 20
    /// The longest pause between sweeps.
    static let longestSweepInterval = Duration.seconds(300)

    // MARK: - Indexing

    /// Streams the text to the knowledge base and records the outcome; if the document was
    /// deleted meanwhile, its new chunks are removed again. `caller` is whom the knowledge base
    /// call acts for (a service token for that tenant is minted from it).
    func index(_ document: Agentplane_V1_Document, text: String, caller: AuthContext) async {
        let tenant = caller.tenantID
        var status = Agentplane_V1_DocumentStatus.ready
        var message = ""
        var chunks: Int32 = 0
        do {
            let client = Agentplane_V1_KnowledgeBaseService.Client(try peers.client(for: .kbSearch))
            var header = Agentplane_V1_IndexDocumentHeader()
            header.documentID = document.id
            header.title = document.name
            header.tags = document.tags
            header.contentType = document.contentType
            let pieces = Self.pieces(text, maximumBytes: DocumentHandler.maximumChunkBytes)
            let first = header
            let response = try await client.indexDocument { writer in
                try await writer.write(.init(part: .header(first)))
                for piece in pieces { try await writer.write(.init(part: .text(piece))) }
            }
            chunks = response.chunkCount
        } catch {
            status = .failed
            message = "indexing failed: \((error as? RPCError)?.message ?? "\(error)")"
            context.logger.warning(
                "document indexing failed", metadata: ["document": "\(document.id)", "error": "\(error)"])
        }
        do {
            let stillThere = try await context.transaction(tenant: tenant) { session in
                try await DocumentStore(session: session, tenant: tenant).setStatus(
                    id: document.id, status, message: message, chunks: chunks)
            }
            if !stillThere, status == .ready {
                var remove = Agentplane_V1_DeleteIndexedDocumentRequest()
                remove.documentID = document.id
                _ = try? await Agentplane_V1_KnowledgeBaseService.Client(try peers.client(for: .kbSearch))
                    .deleteDocument(remove)
                return
            }
        } catch {
            context.logger.error(
                "document status not recorded", metadata: ["document": "\(document.id)", "error": "\(error)"])
            return
        }
        await context.events.publish(
            tenant: tenant, type: status == .ready ? "document.indexed" : "document.index_failed", subject: document.id,
            actor: caller.effectiveUserID, fields: ["chunk_count": String(chunks)])
    }

    /// Splits text into pieces of at most `maximumBytes` UTF-8 bytes, never inside a character.
    static func pieces(_ text: String, maximumBytes: Int) -> [String] {
        var pieces: [String] = []
        var current = ""
        var size = 0
        for character in text {
            let length = character.utf8.count
            if size + length > maximumBytes, !current.isEmpty {
                pieces.append(current)
                current = ""
                size = 0
            }
            current.append(character)
            size += length
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    // MARK: - Recovery

    /// Sweeps at start-up, then every half DOCUMENT_INDEX_STALE_AFTER (at most every 5 minutes),
    /// until cancelled; a lost indexing is restarted within 1.5 times the bound.
    func run() async {
        let stale = context.settings.documentIndexStaleAfter
        let interval = min(max(stale / 2, .seconds(1)), Self.longestSweepInterval)
        while !Task.isCancelled {
            do {
                let claimed = try await sweep()
                if claimed > 0 {
                    context.logger.info("restarted lost document indexing", metadata: ["count": "\(claimed)"])
                }
            } catch is CancellationError {
                return
            } catch {
                context.logger.error("document indexing sweep failed", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    /// Claims every tenant's documents PROCESSING for longer than DOCUMENT_INDEX_STALE_AFTER (see
    /// `claim_stale_documents` in migration 0005) and indexes each again, one after another, as
    /// the control plane acting for its uploader; a document claimed for the
    /// `maximumAttempts`-th time is marked FAILED instead. Returns how many were claimed.
    @discardableResult
    func sweep() async throws -> Int {
        let milliseconds = context.settings.documentIndexStaleAfter.controlMilliseconds
        var total = 0
        while !Task.isCancelled {
            let rows = try await context.postgres.query(
                "SELECT tenant_id, id, attempts FROM control.claim_stale_documents($1::int8, $2::int4)",
                milliseconds, Self.claimBatch)
            for row in rows {
                let tenant: String = try row.decode("tenant_id")
                let id: String = try row.decode("id")
                let attempts = try row.decode("attempts", as: Int.self)
                await recover(id: id, tenant: tenant, attempt: attempts)
            }
            total += rows.count
            if rows.count < Self.claimBatch { break }
        }
        return total
    }

    /// Indexes one claimed document again, or gives up on it after `maximumAttempts`.
    private func recover(id: String, tenant: String, attempt: Int) async {
        do {
            if attempt > Self.maximumAttempts {
                let reason =
                    "indexing was interrupted \(Self.maximumAttempts) times (the control plane stopped before the "
                    + "knowledge base answered); upload the document again"
                let failed = try await context.transaction(tenant: tenant) { session in
                    try await DocumentStore(session: session, tenant: tenant).failProcessing(id: id, message: reason)
                }
                if failed {
                    context.logger.warning("document indexing given up", metadata: ["document": "\(id)"])
                    await context.events.publish(
                        tenant: tenant, type: "document.index_failed", subject: id, actor: "service:control",
                        fields: ["chunk_count": "0"])
                }
                return
            }
            let loaded = try await context.transaction(tenant: tenant) { session in
                let store = DocumentStore(session: session, tenant: tenant)
                guard let document = try await store.document(id: id), document.status == .processing,
                    let content = try await store.content(id: id)
                else { return (Agentplane_V1_Document?.none, [UInt8]()) }
                return (document, content)
            }
            guard let document = loaded.0 else { return }
            context.logger.info(
                "document indexing restarted", metadata: ["document": "\(id)", "attempt": "\(attempt)"])
            let caller = AuthContext(
                kind: .service, tenantID: tenant, userID: "service:control", role: .service,
                actingUserID: document.uploadedBy.isEmpty ? nil : document.uploadedBy, serviceName: "control")
            let text = String(decoding: loaded.1, as: UTF8.self)
            await AuthContext.$current.withValue(caller) {
                await index(document, text: text, caller: caller)
            }
        } catch {
            context.logger.error(
                "document indexing not restarted", metadata: ["document": "\(id)", "error": "\(error)"])
        }
    }
}
