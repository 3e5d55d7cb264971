import ArgumentParser
import Foundation
import RPCCore
import RPCModels

/// `agentctl docs ...`: documents of the knowledge base.
struct Docs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload, list, inspect and delete knowledge-base documents.",
        subcommands: [DocsUpload.self, DocsList.self, DocsGet.self, DocsDelete.self])
}

extension Session {
    /// The document client.
    var documents: Agentplane_V1_DocumentService.Client { Agentplane_V1_DocumentService.Client(control) }

    /// A document's metadata.
    func document(_ id: String) async throws -> Agentplane_V1_Document {
        let response = try await call { metadata in
            try await documents.getDocument(.init(documentID: id), metadata: metadata)
        }
        guard let document = response.document else { throw RPCError(code: .notFound, message: "no document \(id)") }
        return document
    }
}

/// `agentctl docs upload`.
struct DocsUpload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload", abstract: "Upload a document; with --wait, until it is indexed.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to upload.") var file: String
    @Option(help: "The document's name (default the file's name).") var name: String?
    @Option(help: "A tag (repeatable).") var tag: [String] = []
    @Option(name: .customLong("content-type"), help: "The MIME type (default guessed from the name).")
    var contentType: String?
    @Flag(help: "Wait until indexing has finished (exit 1 if it failed).") var wait = false
    @Option(help: "Seconds --wait waits at most.") var timeout = 120

    /// Bytes per upload message; the server accepts up to 1 MiB.
    private static let chunkSize = 512 * 1024

    func run() async throws {
        guard let content = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        let documentName = name ?? (file as NSString).lastPathComponent
        let header = Agentplane_V1_UploadDocumentMetadata(
            name: documentName, contentType: contentType ?? "", tags: tag)
        try await Session.with(global) { session in
            let response = try await session.call { metadata in
                try await session.documents.uploadDocument(metadata: metadata) { writer in
                    try await writer.write(.init(part: .metadata(header)))
                    var offset = 0
                    while offset < content.count {
                        let end = min(offset + Self.chunkSize, content.count)
                        try await writer.write(.init(part: .chunk(content.subdata(in: offset..<end))))
                        offset = end
                    }
                }
            }
            guard var document = response.document else { throw CLIFailure("the server sent no document") }
            if wait {
                document = try await waitForIndexing(document, session: session)
            }
            if global.json {
                global.output.emit(document.json)
            } else {
                Terminal.line(
                    "Uploaded \(document.name) (\(formatBytes(document.sizeBytes))): \(document.id), \(statusText(document))."
                )
            }
            if document.status == .failed {
                throw CLIFailure("indexing \(document.name) failed: \(document.statusMessage)")
            }
        }
    }

    private func waitForIndexing(_ uploaded: Agentplane_V1_Document, session: Session) async throws
        -> Agentplane_V1_Document
    {
        var document = uploaded
        let deadline = ContinuousClock.now + .seconds(timeout)
        while document.status == .processing || document.status == .unspecified {
            guard ContinuousClock.now < deadline else {
                throw CLIFailure("\(document.name) is still being indexed after \(timeout) s (id \(document.id))")
            }
            try await Task.sleep(for: .milliseconds(300))
            document = try await session.document(document.id)
        }
        return document
    }
}

/// The status for people: `ready (12 chunks)`, `failed: why`.
func statusText(_ document: Agentplane_V1_Document) -> String {
    switch document.status {
    case .ready: "ready (\(document.chunkCount) chunk\(document.chunkCount == 1 ? "" : "s"))"
    case .failed, .notIndexed:
        document.statusMessage.isEmpty ? document.status.name : "\(document.status.name): \(document.statusMessage)"
    default: document.status.name
    }
}

/// `agentctl docs list`.
struct DocsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List documents, newest first.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var list: ListOptions
    @Option(help: "Only documents whose name contains this.") var name: String?
    @Option(help: "Only documents with this tag (repeatable).") var tag: [String] = []
    @Option(help: "Only documents in this status (processing, ready, failed, not_indexed).") var status: String?

    func run() async throws {
        let statuses: [String: Agentplane_V1_DocumentStatus] = [
            "processing": .processing, "ready": .ready, "failed": .failed, "not_indexed": .notIndexed,
        ]
        var statusFilter = Agentplane_V1_DocumentStatus.unspecified
        if let status {
            guard let known = statuses[status.lowercased()] else {
                throw ValidationError("--status must be one of processing, ready, failed, not_indexed")
            }
            statusFilter = known
        }
        try await Session.with(global) { session in
            let documents = try await collectPages(limit: list.limit) { size, token in
                let response = try await session.call { metadata in
                    try await session.documents.listDocuments(
                        .init(
                            pageSize: size, pageToken: token, tags: tag, status: statusFilter,
                            nameContains: name ?? ""),
                        metadata: metadata)
                }
                return (response.documents, response.nextPageToken)
            }
            if global.json {
                global.output.emit(.object([("documents", .array(documents.map(\.json)))]))
                return
            }
            global.output.table(
                ["ID", "NAME", "SIZE", "STATUS", "TAGS", "UPLOADED"],
                documents.map {
                    [
                        $0.id, $0.name, formatBytes($0.sizeBytes), statusText($0), $0.tags.joined(separator: ","),
                        formatTime($0.createdAt),
                    ]
                },
                empty: "No documents.")
        }
    }
}

/// `agentctl docs get`.
struct DocsGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a document's metadata.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The document's id.") var id: String

    func run() async throws {
        try await Session.with(global) { session in
            let document = try await session.document(id)
            if global.json {
                global.output.emit(document.json)
                return
            }
            global.output.fields([
                ("name", document.name),
                ("id", document.id),
                ("type", document.contentType),
                ("size", formatBytes(document.sizeBytes)),
                ("sha256", document.sha256),
                ("tags", document.tags.joined(separator: ", ")),
                ("status", statusText(document)),
                ("uploaded by", document.uploadedBy),
                ("uploaded", formatTime(document.createdAt)),
                ("indexed", document.indexedAt == nil ? "" : formatTime(document.indexedAt)),
            ])
        }
    }
}

/// `agentctl docs delete`.
struct DocsDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a document and remove it from the knowledge base.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The document's id.") var id: String

    func run() async throws {
        try await Session.with(global) { session in
            _ = try await session.call { metadata in
                try await session.documents.deleteDocument(.init(documentID: id), metadata: metadata)
            }
            if global.json {
                global.output.emit(.object([("deleted", .string(id))]))
            } else {
                Terminal.line("Deleted document \(id).")
            }
        }
    }
}
