import Control
import Crypto
import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("Control documents")
struct DocumentTests {
    struct Fixture {
        let fakes: FakeIntegrations
        let harness: ServiceTestHarness
        let documents: Agentplane_V1_DocumentService.Client

        static func start(_ environment: [String: String] = [:]) async throws -> Fixture {
            let fakes = try await FakeIntegrations.start()
            let harness = try await ServiceTestHarness.start(
                ControlService.definition, environment: fakes.environment.merging(environment) { $1 })
            return Fixture(fakes: fakes, harness: harness, documents: .init(harness.client))
        }

        func stop() async throws {
            try await harness.stop()
            await fakes.stop()
        }

        /// Uploads `chunks` after a metadata message (or without one when `name` is nil).
        func upload(
            _ name: String?, type: String = "", tags: [String] = [], chunks: [[UInt8]], as metadata: Metadata
        ) async throws -> Agentplane_V1_Document {
            try #require(
                try await documents.uploadDocument(metadata: metadata) { writer in
                    if let name {
                        var header = Agentplane_V1_UploadDocumentMetadata()
                        header.name = name
                        header.contentType = type
                        header.tags = tags
                        try await writer.write(.init(part: .metadata(header)))
                    }
                    for chunk in chunks { try await writer.write(.init(part: .chunk(Data(chunk)))) }
                }.document)
        }

        /// The document once its indexing finished (or as it is after 10 seconds).
        func settled(_ id: String, as metadata: Metadata) async throws -> Agentplane_V1_Document? {
            for _ in 0..<200 {
                let document = try await documents.getDocument(.init(documentID: id), metadata: metadata).document
                if document?.status != .processing { return document }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        func download(_ id: String, as metadata: Metadata) async throws
            -> (Agentplane_V1_Document?, [UInt8], Int)
        {
            try await documents.downloadDocument(.init(documentID: id), metadata: metadata) { stream in
                var document: Agentplane_V1_Document?
                var bytes: [UInt8] = []
                var messages = 0
                for try await message in stream {
                    messages += 1
                    switch message.part {
                    case .document(let value): document = value
                    case .chunk(let chunk): bytes.append(contentsOf: chunk)
                    case nil: break
                    }
                }
                return (document, bytes, messages)
            }
        }
    }

    @Test("upload → indexed into the KB → download round trip → delete removes it from the KB")
    func lifecycle() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant, user: "builder-1")
        let member = try await bearer(role: .member, tenant: tenant)
        let text = "# Accounts\n\n## Resetting your password\n\n" + String(repeating: "Open Settings. ", count: 40_000)
        let bytes = Array(text.utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 200_000).map {
            Array(bytes[$0..<min($0 + 200_000, bytes.count)])
        }
        let uploaded = try await fixture.upload("password-reset.md", tags: ["faq"], chunks: chunks, as: builder)
        #expect(uploaded.contentType == "text/markdown" && uploaded.sizeBytes == Int64(bytes.count))
        #expect(uploaded.sha256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
        #expect(uploaded.uploadedBy == "builder-1" && uploaded.tags == ["faq"])
        let ready = try #require(try await fixture.settled(uploaded.id, as: member))
        #expect(ready.status == .ready && ready.indexedAt != nil && ready.chunkCount > 0)
        let indexed = try #require(fixture.fakes.kb.indexed.withLock { $0[uploaded.id] })
        #expect(indexed.text == text && indexed.header.contentType == "text/markdown")
        #expect(indexed.header.title == "password-reset.md" && indexed.header.tags == ["faq"])

        let (document, content, messages) = try await fixture.download(uploaded.id, as: member)
        #expect(document?.id == uploaded.id && content == bytes)
        #expect(messages == 1 + (bytes.count + 256 * 1024 - 1) / (256 * 1024))

        var list = Agentplane_V1_ListDocumentsRequest()
        list.tags = ["faq"]
        #expect(try await fixture.documents.listDocuments(list, metadata: member).documents.map(\.id) == [uploaded.id])
        list.tags = ["other"]
        #expect(try await fixture.documents.listDocuments(list, metadata: member).documents.isEmpty)

        #expect(
            await statusCode {
                try await fixture.documents.deleteDocument(.init(documentID: uploaded.id), metadata: member)
            }
                == .permissionDenied)
        _ = try await fixture.documents.deleteDocument(.init(documentID: uploaded.id), metadata: builder)
        #expect(fixture.fakes.kb.deleted.withLock { $0 } == [uploaded.id])
        #expect(
            await statusCode {
                try await fixture.documents.getDocument(.init(documentID: uploaded.id), metadata: member)
            }
                == .notFound)
        try await fixture.stop()
    }

    @Test("limits and checks: size limit, chunk size, metadata order, names, content types, roles")
    func limits() async throws {
        let fixture = try await Fixture.start(["DOCUMENT_MAX_BYTES": "4096"])
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let member = try await bearer(role: .member, tenant: tenant)
        let over = await statusCode {
            try await fixture.upload(
                "big.txt", chunks: [[UInt8](repeating: 65, count: 3000), [UInt8](repeating: 65, count: 3000)],
                as: builder)
        }
        #expect(over == .resourceExhausted)
        let huge = await statusCode {
            try await fixture.upload("huge.txt", chunks: [[UInt8](repeating: 65, count: (1 << 20) + 1)], as: builder)
        }
        #expect(huge == .resourceExhausted)
        #expect(await statusCode { try await fixture.upload(nil, chunks: [[65]], as: builder) } == .invalidArgument)
        #expect(await statusCode { try await fixture.upload(" ", chunks: [[65]], as: builder) } == .invalidArgument)
        #expect(await statusCode { try await fixture.upload("a.txt", chunks: [[65]], as: member) } == .permissionDenied)
        let binary = await rpcError { try await fixture.upload("a.txt", chunks: [[0xff, 0x00, 0xfe]], as: builder) }
        #expect(binary?.code == .invalidArgument && violationFields(binary) == ["content_type"])
        let badType = await statusCode {
            try await fixture.upload("a", type: "not a type", chunks: [[65]], as: builder)
        }
        #expect(badType == .invalidArgument)
        // A PDF is stored but not indexed.
        let pdf = try await fixture.upload("manual.pdf", chunks: [[0x25, 0x50, 0x44, 0x46, 0x00, 0xff]], as: builder)
        #expect(pdf.status == .notIndexed && pdf.contentType == "application/pdf")
        #expect(fixture.fakes.kb.indexed.withLock { $0[pdf.id] } == nil)
        let (_, content, _) = try await fixture.download(pdf.id, as: member)
        #expect(content == [0x25, 0x50, 0x44, 0x46, 0x00, 0xff])
        _ = try await fixture.documents.deleteDocument(.init(documentID: pdf.id), metadata: builder)
        #expect(fixture.fakes.kb.deleted.withLock { $0 }.isEmpty)
        try await fixture.stop()
    }

    @Test("tenant isolation: another tenant gets NOT_FOUND and lists nothing")
    func isolation() async throws {
        let fixture = try await Fixture.start()
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        let document = try await fixture.upload("notes.txt", chunks: [Array("hello".utf8)], as: builder)
        let stranger = try await bearer(role: .owner, tenant: uniqueTenant())
        let id = document.id
        #expect(
            await statusCode { try await fixture.documents.getDocument(.init(documentID: id), metadata: stranger) }
                == .notFound)
        #expect(await statusCode { try await fixture.download(id, as: stranger) } == .notFound)
        #expect(
            await statusCode { try await fixture.documents.deleteDocument(.init(documentID: id), metadata: stranger) }
                == .notFound)
        #expect(try await fixture.documents.listDocuments(.init(), metadata: stranger).documents.isEmpty)
        #expect(try await fixture.settled(id, as: builder)?.status == .ready)
        try await fixture.stop()
    }
}
