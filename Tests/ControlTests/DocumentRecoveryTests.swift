import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import ServiceTestSupport
import Testing

/// Documents whose indexing was lost in a crash: the control plane's start-up sweep finds them
/// across tenants and indexes them again, or gives up after the last attempt.
@Suite("Control documents: lost indexing")
struct DocumentRecoveryTests {
    @Test("documents PROCESSING beyond the bound are re-indexed at start-up (every tenant), or FAILED after 3 attempts")
    func lostIndexingIsRestarted() async throws {
        // A database of its own: the sweep works across tenants, and the other control planes
        // of this test process must not claim these documents (nor this one theirs).
        let database = try await isolatedDatabaseURL(named: "agentplane_control_document_recovery")
        let fakes = try await FakeIntegrations.start()
        let environment = fakes.environment.merging(["DATABASE_URL": database]) { $1 }
        let first = try await ServiceTestHarness.start(ControlService.definition, environment: environment)
        let documents = Agentplane_V1_DocumentService.Client(first.client)
        let tenantA = uniqueTenant()
        let tenantB = uniqueTenant()
        let builderA = try await bearer(role: .builder, tenant: tenantA, user: "builder-a")
        let builderB = try await bearer(role: .builder, tenant: tenantB, user: "builder-b")

        func upload(_ name: String, _ text: String, as metadata: Metadata) async throws -> Agentplane_V1_Document {
            try #require(
                try await documents.uploadDocument(metadata: metadata) { writer in
                    var header = Agentplane_V1_UploadDocumentMetadata()
                    header.name = name
                    try await writer.write(.init(part: .metadata(header)))
                    try await writer.write(.init(part: .chunk(Data(text.utf8))))
                }.document)
        }
        func settled(_ id: String, as metadata: Metadata, client: Agentplane_V1_DocumentService.Client)
            async throws -> Agentplane_V1_Document?
        {
            for _ in 0..<400 {
                let document = try await client.getDocument(.init(documentID: id), metadata: metadata).document
                if document?.status != .processing { return document }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        let lostText = "# Refunds\n\nRefunds are paid back within five working days."
        let lost = try await upload("refunds.md", lostText, as: builderA)
        let hopeless = try await upload("shipping.md", "# Shipping\n\nWe ship worldwide.", as: builderB)
        let recent = try await upload("returns.md", "# Returns\n\nReturn within 30 days.", as: builderA)
        for (id, metadata) in [(lost.id, builderA), (hopeless.id, builderB), (recent.id, builderA)] {
            #expect(try await settled(id, as: metadata, client: documents)?.status == .ready)
        }
        try await first.stop()

        // As a crash leaves them: PROCESSING, nothing in the knowledge base. `lost` started an
        // hour ago (beyond the default bound of 10 minutes); `hopeless` did too, on its third
        // attempt already; `recent` started just now.
        let admin = PostgresPool(configuration: .init(connectionString: database, maximumConnections: 1))
        defer { admin.close() }
        for (id, tenant, age, attempts) in [
            (lost.id, tenantA, "1 hour", 1), (hopeless.id, tenantB, "1 hour", 3), (recent.id, tenantA, "0 seconds", 1),
        ] {
            _ = try await admin.query(
                """
                UPDATE control.documents SET status = 1, chunk_count = 0, indexed_at = NULL,
                    processing_since = now() - $3::interval, index_attempts = $4
                WHERE tenant_id = $1 AND id = $2
                """, tenant, id, age, attempts)
        }
        fakes.kb.indexed.withLock { $0 = [:] }

        // The restarted control plane sweeps at start-up.
        let second = try await ServiceTestHarness.start(ControlService.definition, environment: environment)
        let restarted = Agentplane_V1_DocumentService.Client(second.client)
        let recovered = try #require(try await settled(lost.id, as: builderA, client: restarted))
        #expect(recovered.status == .ready && recovered.chunkCount > 0)
        let indexed = fakes.kb.indexed.withLock { $0[lost.id] }
        #expect(indexed?.text == lostText && indexed?.header.title == "refunds.md")
        let givenUp = try #require(try await settled(hopeless.id, as: builderB, client: restarted))
        #expect(givenUp.status == .failed && givenUp.statusMessage.contains("3 times"))
        #expect(fakes.kb.indexed.withLock { $0[hopeless.id] } == nil)

        // The sweep claimed both in one statement; the recent one was not due and is left alone.
        let untouched = try await restarted.getDocument(.init(documentID: recent.id), metadata: builderA).document
        #expect(untouched?.status == .processing)
        #expect(fakes.kb.indexed.withLock { $0[recent.id] } == nil)
        let attempts = try await admin.query(
            "SELECT index_attempts FROM control.documents WHERE tenant_id = $1 AND id = $2", tenantA, lost.id)
        #expect(try attempts.first?.decode("index_attempts", as: Int.self) == 2)
        try await second.stop()
        await fakes.stop()
    }
}
