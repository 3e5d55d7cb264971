import NIOCore
import NIOHTTP1
import ProtoJSON
import RPCCore

/// `POST /v1/documents`: the request body streamed to DocumentService.UploadDocument as it
/// arrives (never held whole): a first message with the metadata, from the query (`name`,
/// `content_type`, `tags`, `skip_indexing`; the content type defaults to the request's), then
/// the body in chunks.
struct DocumentUpload {
    let route: HTTPRoute
    let schema: ProtoSchema
    let limits: EdgeLimits

    /// The largest chunk message sent.
    static let chunkBytes = 64 << 10
    // UploadDocumentRequest: metadata = 1, chunk = 2 (control.proto).
    private static let metadataField = 1
    private static let chunkField = 2

    func forward(
        _ request: EdgeRequest, bindings: [(fieldPath: [String], value: String)], body: RequestBody,
        client: RPCClient, metadata: Metadata, response: HTTPResponseWriter, gateway: JSONGateway
    ) async throws {
        let contentType = request.headers.first(name: "content-type")?.split(separator: ";").first.map {
            String($0).lowercased().trimmingCharacters(in: .whitespaces)
        }
        var multipart: MultipartParser?
        if contentType == "multipart/form-data" {
            guard let boundary = request.headers.first(name: "content-type").flatMap(MultipartParser.boundary(of:))
            else {
                throw EdgeError.badRequest("a multipart/form-data body needs a boundary parameter")
            }
            do {
                multipart = try MultipartParser(boundary: boundary)
            } catch {
                throw EdgeError.badRequest(error.description)
            }
        }
        if let length = request.headers.first(name: "content-length").flatMap(Int.init),
            length > limits.maximumUploadBytes
        {
            throw EdgeError(
                status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                message: "the upload is larger than \(limits.maximumUploadBytes) bytes (EDGE_MAX_UPLOAD_BYTES)")
        }
        guard let pairs = PercentDecoding.queryPairs(request.query) else {
            throw EdgeError.badRequest("the query string is not valid percent-encoded UTF-8")
        }
        var header = try transcode { () throws(ProtoJSONError) in
            try ProtoJSONRequestBuilder(schema: schema, messageType: "agentplane.v1.UploadDocumentMetadata")
        }
        var typeGiven = false
        for (key, value) in pairs {
            if key == "content_type" || key == "contentType" { typeGiven = true }
            try transcode { () throws(ProtoJSONError) in try header.setParameter(path: [key], text: value) }
        }
        let named = pairs.contains { $0.key == "name" && !$0.value.isEmpty }
        if multipart == nil {
            guard named else { throw EdgeError.badRequest("name: the upload needs ?name= (the document's file name)") }
            if !typeGiven, let contentType, contentType != "application/octet-stream" {
                try transcode { () throws(ProtoJSONError) in
                    try header.setParameter(path: ["content_type"], text: contentType)
                }
            }
        }
        let limit = limits.maximumUploadBytes
        let query = header
        let typeGivenInQuery = typeGiven
        let parserAtStart = multipart
        let descriptor = MethodDescriptor(service: route.service, method: route.method, kind: .clientStreaming)
        let reply: ClientResponse<[UInt8]>
        do {
            reply = try await client.clientStreaming(
                descriptor, metadata: metadata, options: CallOptions(timeout: limits.streamTimeout),
                encode: { $0 }, decode: { $0 },
                requests: { writer in
                    if var parser = parserAtStart {
                        try await Self.streamMultipart(
                            body: body, parser: &parser, header: query, named: named, typeGiven: typeGivenInQuery,
                            limit: limit,
                            writer: writer)
                        return
                    }
                    try await writer.write(try Self.firstMessage(query))
                    var sent = 0
                    while let buffer = try await body.next() {
                        sent += buffer.readableBytes
                        guard sent <= limit else {
                            throw EdgeError(
                                status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                                message: "the upload is larger than \(limit) bytes (EDGE_MAX_UPLOAD_BYTES)")
                        }
                        try await Self.sendChunks(buffer.readableBytesView, writer: writer)
                    }
                }
            )
        } catch let error as RPCError {
            throw gateway.edgeError(error)
        }
        try await response.respondJSON(
            try transcode { () throws(ProtoJSONError) in
                try schema.encode(wire: reply.message, as: route.responseType, field: route.responseBody)
            })
    }

    /// The upload's first message: the metadata.
    private static func firstMessage(_ header: ProtoJSONRequestBuilder) throws -> [UInt8] {
        WireFields(bytes: []).replacing(
            metadataField, with: try transcode { () throws(ProtoJSONError) in try header.wireBytes() })
    }

    /// Sends `bytes` as chunk messages of at most `chunkBytes`.
    private static func sendChunks(_ bytes: some Collection<UInt8>, writer: RequestWriter<[UInt8]>) async throws {
        var view = bytes[...]
        while !view.isEmpty {
            let piece = view.prefix(chunkBytes)
            view = view.dropFirst(piece.count)
            try await writer.write(WireFields(bytes: []).replacing(chunkField, with: Array(piece)))
        }
    }

    /// A `multipart/form-data` upload: text fields (`name`, `content_type`, `tags`,
    /// `skip_indexing`, each at most 4 KiB) before one file part (field `file`, or any part with a
    /// file name), whose file name and type fill what the fields and the query left unset; the
    /// file's bytes are streamed as they come.
    private static func streamMultipart(
        body: RequestBody, parser: inout MultipartParser, header: ProtoJSONRequestBuilder, named: Bool,
        typeGiven: Bool, limit: Int, writer: RequestWriter<[UInt8]>
    ) async throws {
        var header = header
        var named = named
        var typeGiven = typeGiven
        var field: (name: String, value: [UInt8])?
        var inFile = false
        var fileSeen = false
        var sent = 0
        func failure(_ error: MultipartParser.Failure) -> EdgeError { EdgeError.badRequest(error.description) }
        while true {
            let buffer = try await body.next()
            let events: [MultipartParser.Event]
            do {
                if let buffer {
                    events = try parser.feed(buffer.readableBytesView)
                } else {
                    try parser.finish()
                    events = []
                }
            } catch {
                throw failure(error)
            }
            for event in events {
                switch event {
                case .partStarted(let name, let fileName, let contentType):
                    if name == "file" || fileName != nil {
                        guard !fileSeen else { throw EdgeError.badRequest("an upload carries one file part") }
                        fileSeen = true
                        inFile = true
                        if !named {
                            guard let fileName, !fileName.isEmpty else {
                                throw EdgeError.badRequest(
                                    "name: give a name field, ?name= or the file part's filename")
                            }
                            try transcode { () throws(ProtoJSONError) in
                                try header.setParameter(path: ["name"], text: fileName)
                            }
                            named = true
                        }
                        if !typeGiven, let contentType, contentType.lowercased() != "application/octet-stream" {
                            try transcode { () throws(ProtoJSONError) in
                                try header.setParameter(path: ["content_type"], text: contentType)
                            }
                            typeGiven = true
                        }
                        try await writer.write(try firstMessage(header))
                    } else {
                        guard !fileSeen else { throw EdgeError.badRequest("the fields must come before the file part") }
                        guard let name, !name.isEmpty else {
                            throw EdgeError.badRequest("a multipart field has no name")
                        }
                        field = (name, [])
                    }
                case .data(let bytes):
                    if inFile {
                        sent += bytes.count
                        guard sent <= limit else {
                            throw EdgeError(
                                status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                                message: "the upload is larger than \(limit) bytes (EDGE_MAX_UPLOAD_BYTES)")
                        }
                        try await sendChunks(bytes, writer: writer)
                    } else if field != nil {
                        guard (field?.value.count ?? 0) + bytes.count <= 4096 else {
                            throw EdgeError.badRequest("multipart field \(field?.name ?? "") is longer than 4 KiB")
                        }
                        field?.value += bytes
                    }
                case .partEnded:
                    if let (name, value) = field {
                        guard let text = String(validating: value, as: UTF8.self) else {
                            throw EdgeError.badRequest("multipart field \(name) is not UTF-8")
                        }
                        if name == "name" { named = !text.isEmpty || named }
                        if name == "content_type" || name == "contentType" { typeGiven = true }
                        try transcode { () throws(ProtoJSONError) in try header.setParameter(path: [name], text: text) }
                    }
                    field = nil
                    inFile = false
                }
            }
            if buffer == nil { break }
        }
        guard fileSeen else { throw EdgeError.badRequest("the multipart body has no file part") }
    }
}
