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
        client: RPCClient, metadata: Metadata, response: ResponseWriter, gateway: JSONGateway
    ) async throws {
        let contentType = request.headers.first(name: "content-type")?.split(separator: ";").first.map {
            String($0).lowercased().trimmingCharacters(in: .whitespaces)
        }
        if contentType == "multipart/form-data" {
            throw EdgeError(
                status: .unsupportedMediaType, code: "UNIMPLEMENTED",
                message: "multipart uploads are not accepted yet: send the file as the raw body with ?name=")
        }
        if let length = request.headers.first(name: "content-length").flatMap(Int.init), length > limits.maximumUploadBytes {
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
        guard pairs.contains(where: { $0.key == "name" && !$0.value.isEmpty }) else {
            throw EdgeError.badRequest("name: the upload needs ?name= (the document's file name)")
        }
        if !typeGiven, let contentType, contentType != "application/octet-stream" {
            try transcode { () throws(ProtoJSONError) in try header.setParameter(path: ["content_type"], text: contentType) }
        }
        let first = WireFields(bytes: []).replacing(
            Self.metadataField, with: try transcode { () throws(ProtoJSONError) in try header.wireBytes() })
        let limit = limits.maximumUploadBytes
        let descriptor = MethodDescriptor(service: route.service, method: route.method, kind: .clientStreaming)
        let reply: ClientResponse<[UInt8]>
        do {
            reply = try await client.clientStreaming(
                descriptor, metadata: metadata, options: CallOptions(timeout: limits.streamTimeout),
                encode: { $0 }, decode: { $0 }
            ) { writer in
                try await writer.write(first)
                var sent = 0
                while let buffer = try await body.next() {
                    sent += buffer.readableBytes
                    guard sent <= limit else {
                        throw EdgeError(
                            status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                            message: "the upload is larger than \(limit) bytes (EDGE_MAX_UPLOAD_BYTES)")
                    }
                    var view = buffer.readableBytesView[...]
                    while !view.isEmpty {
                        let piece = view.prefix(Self.chunkBytes)
                        view = view.dropFirst(piece.count)
                        try await writer.write(WireFields(bytes: []).replacing(Self.chunkField, with: Array(piece)))
                    }
                }
            }
        } catch let error as RPCError {
            throw gateway.edgeError(error)
        }
        try await response.respondJSON(
            try transcode { () throws(ProtoJSONError) in
                try schema.encode(wire: reply.message, as: route.responseType, field: route.responseBody)
            })
    }
}
