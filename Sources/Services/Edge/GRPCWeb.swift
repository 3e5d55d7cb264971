import FoundationEssentials
import NIOCore
import NIOHTTP1
import RPCCore
public import Runtime
import RuntimeConfig

/// gRPC-Web (PROTOCOL-WEB.md) on the edge's port: `POST /{service}/{method}` with
/// `application/grpc-web[+proto]` (binary) or `application/grpc-web-text[+proto]` (base64), for
/// unary and server-streaming RPCs of the public API (the ones the HTTP rules expose). Messages
/// pass through untouched; the status and trailers come at the end of the body in a frame
/// flagged 0x80, as the protocol has it (or, when a call fails before any message, in the
/// headers: a trailers-only response).
public struct GRPCWebGateway: Sendable {
    /// The exposed methods by path (`/agentplane.v1.AgentService/GetAgent`).
    private let methods: [String: HTTPRoute]
    private let peers: PeerClients
    private let limits: EdgeLimits
    private let session: BrowserSession

    /// A gateway for the methods the HTTP rules expose.
    public init(routes: [HTTPRoute], peers: PeerClients, limits: EdgeLimits, session: BrowserSession) {
        var methods: [String: HTTPRoute] = [:]
        // A method with several bindings is one gRPC method: the first binding describes it.
        for route in routes where !route.clientStreaming && methods["/\(route.service)/\(route.method)"] == nil {
            methods["/\(route.service)/\(route.method)"] = route
        }
        self.methods = methods
        self.peers = peers
        self.limits = limits
        self.session = session
    }

    /// Whether a request is gRPC-Web (by its content type).
    static func isGRPCWeb(_ request: EdgeRequest) -> Bool {
        request.method == .POST
            && (request.headers.first(name: "content-type")?.lowercased().hasPrefix("application/grpc-web") ?? false)
    }

    func handle(_ request: EdgeRequest, body: RequestBody, response: HTTPResponseWriter) async throws {
        let contentType = request.headers.first(name: "content-type")?.lowercased() ?? ""
        let text = contentType.hasPrefix("application/grpc-web-text")
        let responseType = text ? "application/grpc-web-text+proto" : "application/grpc-web+proto"
        let subtype = contentType.split(separator: "+", maxSplits: 1).dropFirst().first.map(String.init)
        guard subtype == nil || subtype == "proto" else {
            try await trailersOnly(
                RPCError(code: .unimplemented, message: "only protobuf messages are served (+proto)"),
                contentType: responseType, response: response)
            return
        }
        response.label = "grpc-web"
        guard let route = methods[String(request.path)] else {
            _ = try await body.discard(limit: limits.maximumBodyBytes)
            try await trailersOnly(
                RPCError(code: .unimplemented, message: "\(request.path) is not a public method"),
                contentType: responseType, response: response)
            return
        }
        response.label = "grpc-web \(route.service)/\(route.method)"
        let raw = try await body.collect(limit: limits.maximumBodyBytes)
        let message: [UInt8]
        do {
            message = try Self.singleMessage(text ? Self.decodeBase64Chunks(raw) : raw)
        } catch let error as RPCError {
            try await trailersOnly(error, contentType: responseType, response: response)
            return
        }
        var metadata = try await session.metadata(for: request, route: route)
        metadata.removeAll(forKey: "grpc-timeout")
        let ceiling = route.serverStreaming ? limits.streamTimeout : limits.callTimeout
        var timeout = ceiling
        if let header = request.headers.first(name: "grpc-timeout"), let asked = WireFormats.decodeTimeout(header) {
            timeout = min(asked, ceiling)
        }
        guard let peer = route.peer else {
            throw EdgeError(status: .internalServerError, code: "INTERNAL", message: "no service")
        }
        let client: RPCClient
        do {
            client = try peers.client(for: peer)
        } catch {
            try await trailersOnly(error, contentType: responseType, response: response)
            return
        }
        let descriptor = MethodDescriptor(
            service: route.service, method: route.method,
            kind: CallKind(clientStreaming: false, serverStreaming: route.serverStreaming))
        let encode: @Sendable ([UInt8]) -> [UInt8] = {
            text ? Array(Data(Self.frame($0, flags: 0)).base64EncodedString().utf8) : Self.frame($0, flags: 0)
        }
        do {
            if route.serverStreaming {
                try await client.serverStreaming(
                    descriptor, request: message, metadata: metadata, options: CallOptions(timeout: timeout),
                    encode: { $0 }, decode: { $0 },
                    onResponse: { responses in
                        for try await reply in responses {
                            if !response.started {
                                try await response.start(status: .ok, headers: Self.headers(responseType))
                            }
                            try await response.write(encode(reply))
                        }
                    }
                )
                try await finish(status: .ok, trailers: [:], text: text, contentType: responseType, response: response)
            } else {
                let reply = try await client.unary(
                    descriptor, request: message, metadata: metadata, options: CallOptions(timeout: timeout),
                    encode: { $0 }, decode: { $0 })
                var headers = Self.headers(responseType)
                Self.add(reply.headers, to: &headers)
                // The whole answer is known: one write, with its length.
                let trailer = Self.trailerFrame(status: .ok, trailers: reply.trailers)
                let body =
                    text
                    ? encode(reply.message) + Array(Data(trailer).base64EncodedString().utf8)
                    : encode(reply.message) + trailer
                try await response.respond(status: .ok, headers: headers, body: body)
            }
        } catch let error as RPCError {
            if response.started {
                try await finish(
                    status: error.status, trailers: error.metadata, text: text, contentType: responseType,
                    response: response)
            } else {
                try await trailersOnly(error, contentType: responseType, response: response)
            }
        }
    }

    /// Ends a response with its trailers frame.
    private func finish(
        status: Status, trailers: Metadata, text: Bool, contentType: String, response: HTTPResponseWriter
    ) async throws {
        if !response.started { try await response.start(status: .ok, headers: Self.headers(contentType)) }
        let frame = Self.trailerFrame(status: status, trailers: trailers)
        try await response.write(text ? Array(Data(frame).base64EncodedString().utf8) : frame)
        try await response.end()
    }

    /// The frame (flag 0x80) carrying the status and trailers as HTTP/1 header lines.
    private static func trailerFrame(status: Status, trailers: Metadata) -> [UInt8] {
        var block = "grpc-status: \(status.code.rawValue)\r\n"
        if !status.message.isEmpty {
            block += "grpc-message: \(WireFormats.percentEncode(status.message, limit: 4096))\r\n"
        }
        var extra = HTTPHeaders()
        add(trailers, to: &extra)
        for (name, value) in extra { block += "\(name): \(value)\r\n" }
        return frame(Array(block.utf8), flags: 0x80)
    }

    /// A call that failed before any message: the status in the headers, no body.
    private func trailersOnly(_ error: any Error, contentType: String, response: HTTPResponseWriter) async throws {
        let rpc = (error as? RPCError) ?? RPCError(code: .internalError, message: "\(error)")
        var headers = Self.headers(contentType)
        headers.add(name: "grpc-status", value: String(rpc.code.rawValue))
        if !rpc.message.isEmpty {
            headers.add(name: "grpc-message", value: WireFormats.percentEncode(rpc.message, limit: 4096))
        }
        Self.add(rpc.metadata, to: &headers)
        try await response.respond(status: .ok, headers: headers, body: [])
    }

    private static func headers(_ contentType: String) -> HTTPHeaders {
        [
            "content-type": contentType, "cache-control": "no-store",
            "access-control-expose-headers": "grpc-status, grpc-message, agentplane-error-details-bin",
        ]
    }

    /// Metadata as HTTP headers (`-bin` values base64, as gRPC sends them).
    private static func add(_ metadata: Metadata, to headers: inout HTTPHeaders) {
        for (key, value) in metadata {
            switch value {
            case .string(let text): headers.add(name: key, value: text)
            case .binary(let bytes): headers.add(name: key, value: Data(bytes).base64EncodedString())
            }
        }
    }

    /// A length-prefixed gRPC frame.
    static func frame(_ payload: [UInt8], flags: UInt8) -> [UInt8] {
        let length = UInt32(clamping: payload.count)
        return [
            flags, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF),
        ]
            + payload
    }

    /// The one request message of a unary or server-streaming call.
    static func singleMessage(_ body: [UInt8]) throws -> [UInt8] {
        guard body.count >= 5 else {
            throw RPCError(code: .invalidArgument, message: "the request body holds no complete gRPC-Web frame")
        }
        guard body[0] == 0 else {
            throw RPCError(code: .unimplemented, message: "compressed or flagged request frames are not accepted")
        }
        let length = Int(body[1]) << 24 | Int(body[2]) << 16 | Int(body[3]) << 8 | Int(body[4])
        guard body.count - 5 == length else {
            throw RPCError(
                code: .invalidArgument,
                message:
                    "the request must be exactly one message frame (\(body.count - 5) bytes after the prefix, \(length) declared)"
            )
        }
        return Array(body[5...])
    }

    /// grpc-web-text: base64, possibly several padded chunks one after another.
    static func decodeBase64Chunks(_ text: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk: [UInt8] = []
        func flush() throws {
            guard !chunk.isEmpty else { return }
            guard chunk.count % 4 == 0, let data = Data(base64Encoded: Data(chunk)) else {
                throw RPCError(code: .invalidArgument, message: "the grpc-web-text body is not base64")
            }
            out += data
            chunk.removeAll(keepingCapacity: true)
        }
        for byte in text where byte != 0x0D && byte != 0x0A {
            chunk.append(byte)
            if byte == UInt8(ascii: "="), chunk.count % 4 == 0 { try flush() }
        }
        try flush()
        return out
    }
}
