import NIOHTTP1
import RPCCore

/// `GET /v1/documents/{document_id}/content`: DocumentService.DownloadDocument as the raw file,
/// streamed as it comes: `Content-Type` and `Content-Disposition` from the first message's
/// document, then every chunk's bytes.
struct DocumentDownload {
    // DownloadDocumentResponse: document = 1, chunk = 2; Document: name = 2, content_type = 3,
    // size_bytes = 4 (control.proto).
    private static let documentField = 1
    private static let chunkField = 2

    func forward(
        descriptor: MethodDescriptor, message: [UInt8], client: RPCClient, metadata: Metadata, timeout: Duration,
        response: HTTPResponseWriter, gateway: JSONGateway
    ) async throws {
        do {
            try await client.serverStreaming(
                descriptor, request: message, metadata: metadata, options: CallOptions(timeout: timeout),
                encode: { $0 }, decode: { $0 },
                onResponse: { responses in
                    for try await part in responses {
                        let fields = WireFields(bytes: part)
                        if let document = fields.payload(Self.documentField), !response.started {
                            let document = WireFields(bytes: document)
                            let name = document.payload(2).map { String(decoding: $0, as: UTF8.self) } ?? "document"
                            let type = document.payload(3).map { String(decoding: $0, as: UTF8.self) } ?? ""
                            var headers = HTTPHeaders()
                            headers.add(name: "content-type", value: Self.safeContentType(type))
                            headers.add(name: "content-disposition", value: Self.disposition(name))
                            headers.add(name: "cache-control", value: "private, no-store")
                            if let size = document.varint(4) {
                                headers.add(name: "content-length", value: String(size))
                            }
                            try await response.start(status: .ok, headers: headers)
                        } else if let chunk = fields.payload(Self.chunkField) {
                            guard response.started else {
                                throw EdgeError(
                                    status: .badGateway, code: "INTERNAL",
                                    message: "the download began without its document")
                            }
                            try await response.write(chunk)
                        }
                    }
                }
            )
        } catch let error as RPCError {
            // Once bytes went out, a failure can only cut the response short (the length tells).
            guard response.started else { throw gateway.edgeError(error) }
            throw error
        }
        if !response.started {
            throw EdgeError(status: .badGateway, code: "INTERNAL", message: "the download sent nothing")
        }
        try await response.end()
    }

    /// A stored content type, unless it could run script in the edge's origin.
    static func safeContentType(_ type: String) -> String {
        let lowered = type.lowercased()
        let scriptable = ["html", "xml", "javascript", "svg", "xhtml"]
        guard !type.isEmpty, type.utf8.count < 128, !scriptable.contains(where: lowered.contains),
            type.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
        else { return "application/octet-stream" }
        return type
    }

    /// `attachment` with the name, as plain ASCII and RFC 5987 UTF-8.
    static func disposition(_ name: String) -> String {
        let ascii = String(
            name.unicodeScalars.map { scalar -> Character in
                (0x20..<0x7F).contains(scalar.value) && scalar != "\"" && scalar != "\\" ? Character(scalar) : "_"
            })
        var encoded = ""
        for byte in name.utf8 {
            let allowed =
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || Array("-._~".utf8).contains(byte)
            encoded += allowed ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded
        }
        return "attachment; filename=\"\(ascii.prefix(200))\"; filename*=UTF-8''\(encoded)"
    }
}

extension String {
    fileprivate var leftPadded: String { count < 2 ? "0" + self : self }
}
