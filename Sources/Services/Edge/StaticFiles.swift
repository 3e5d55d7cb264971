import NIOCore
import NIOHTTP1
import NIOPosix

/// The web console's built files from `WEB_ROOT`: content types, `immutable` caching for
/// hashed assets, precompressed `.gz` siblings when the client accepts gzip, the index page for
/// client-side routes, and a strict Content-Security-Policy. Reads go through NIO's thread
/// pool, never on an event loop.
struct StaticFiles: Sendable {
    let root: String
    private let fileIO = NonBlockingFileIO(threadPool: .singleton)
    /// The largest file served (the console's files are small; anything bigger is not ours).
    static let maximumFileBytes = 32 << 20

    /// The policy every console page is served with: scripts, styles and connections to its own
    /// origin only.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    init(root: String) {
        self.root = root
    }

    func serve(_ request: EdgeRequest, response: HTTPResponseWriter) async throws {
        guard request.method == .GET || request.method == .HEAD else {
            throw EdgeError(
                status: .methodNotAllowed, code: "UNIMPLEMENTED", message: "the console's files are read-only")
        }
        guard let decoded = PercentDecoding.decode(request.path) else {
            throw EdgeError.badRequest("the path is not valid percent-encoded UTF-8")
        }
        let parts = decoded.split(separator: "/", omittingEmptySubsequences: true)
        guard
            !parts.contains(where: {
                $0 == ".." || $0 == "." || $0.hasPrefix(".") || $0.contains("\0") || $0.contains("\\")
            })
        else {
            throw EdgeError(status: .notFound, code: "NOT_FOUND", message: "no such file")
        }
        let relative = parts.joined(separator: "/")
        let gzip = (request.headers.first(name: "accept-encoding") ?? "").contains("gzip")
        let isAsset = parts.last?.contains(".") ?? false
        if !relative.isEmpty, isAsset, try await send(relative, gzip: gzip, request: request, response: response) {
            return
        }
        if isAsset {
            throw EdgeError(status: .notFound, code: "NOT_FOUND", message: "no such file: /\(relative)")
        }
        // A client-side route (or /): the console's index page.
        if try await send("index.html", gzip: gzip, request: request, response: response) { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "cache-control", value: "no-store")
        try await response.respond(
            status: .ok, headers: headers,
            body: Array(
                """
                Agentplane edge: the API is at /v1/ (see /openapi.json).
                The web console is not built: run `make web` (or scripts/web build), which writes \(root)/.

                """.utf8))
    }

    /// Sends `relative` (or its `.gz`); false when it does not exist.
    private func send(_ relative: String, gzip: Bool, request: EdgeRequest, response: HTTPResponseWriter) async throws
        -> Bool
    {
        let path = root + "/" + relative
        var bytes: ByteBuffer?
        var compressed = false
        if gzip, let found = try await read(path + ".gz") {
            bytes = found
            compressed = true
        } else {
            bytes = try await read(path)
        }
        guard let bytes else { return false }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: Self.contentType(relative))
        if compressed { headers.add(name: "content-encoding", value: "gzip") }
        headers.add(name: "vary", value: "accept-encoding")
        headers.add(
            name: "cache-control",
            value: Self.isHashed(relative) ? "public, max-age=31536000, immutable" : "no-cache")
        headers.add(name: "content-security-policy", value: Self.contentSecurityPolicy)
        headers.add(name: "x-frame-options", value: "DENY")
        headers.add(name: "content-length", value: String(bytes.readableBytes))
        try await response.start(status: .ok, headers: headers)
        if request.method != .HEAD { try await response.write(bytes) }
        try await response.end()
        return true
    }

    private func read(_ path: String) async throws -> ByteBuffer? {
        do {
            let (handle, region) = try await fileIO.openFile(
                _deprecatedPath: path, eventLoop: MultiThreadedEventLoopGroup.singleton.next()
            ).get()
            defer { try? handle.close() }
            guard region.readableBytes <= Self.maximumFileBytes else { return nil }
            return try await fileIO.read(
                fileRegion: region, allocator: ByteBufferAllocator(),
                eventLoop: MultiThreadedEventLoopGroup.singleton.next()
            ).get()
        } catch let error as IOError where error.errnoCode == 2 || error.errnoCode == 21 || error.errnoCode == 20 {
            return nil
        }
    }

    /// Whether a file name carries a content hash (`app-3F2A9C1B.js`): then it never changes.
    static func isHashed(_ name: String) -> Bool {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        guard let dash = base.lastIndex(of: "-"), let dot = base.lastIndex(of: "."), dash < dot else { return false }
        let hash = base[base.index(after: dash)..<dot]
        return hash.count >= 8 && hash.allSatisfy { $0.isHexDigit || $0.isUppercase || $0.isNumber }
    }

    /// The content type by extension.
    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json", "map": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        case "txt": "text/plain; charset=utf-8"
        case "webmanifest": "application/manifest+json"
        default: "application/octet-stream"
        }
    }
}
