public import Logging
import NIOCore
public import NIOHTTP1
public import ProtoJSON
public import RPCCore
public import Runtime
public import RuntimeConfig

/// The HTTP/JSON API: finds a request's route, turns its path, query and JSON body into the
/// RPC's request message, calls the service, and answers in JSON — or, for a streaming RPC, as
/// Server-Sent Events. It holds no business logic: the services decide everything.
public struct JSONGateway: Sendable {
    let routes: RouteTable
    let schema: ProtoSchema
    let peers: PeerClients
    let limits: EdgeLimits
    let streams: StreamSlots
    let session: BrowserSession
    let logger: Logger

    /// A gateway over `routes`, transcoding with `schema`, calling the services through `peers`.
    public init(
        routes: RouteTable, schema: ProtoSchema, peers: PeerClients, limits: EdgeLimits, session: BrowserSession,
        logger: Logger
    ) {
        self.routes = routes
        self.schema = schema
        self.peers = peers
        self.limits = limits
        self.streams = StreamSlots(limit: limits.maximumStreamsPerTenant)
        self.session = session
        self.logger = logger
    }

    /// Answers an API request (a path under `/v1/`).
    func handle(_ request: EdgeRequest, body: RequestBody, response: HTTPResponseWriter) async throws {
        let entry: RouteTable.Entry
        let bindings: [(fieldPath: [String], value: String)]
        switch routes.lookup(method: request.method.rawValue, path: request.path) {
        case .found(let found, let bound):
            entry = found
            bindings = bound
        case .methodNotAllowed(let allowed):
            var headers = HTTPHeaders()
            headers.add(name: "allow", value: allowed.joined(separator: ", "))
            let error = EdgeError(
                status: .methodNotAllowed, code: "UNIMPLEMENTED",
                message: "\(request.method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))")
            try await response.respondJSON(error.jsonBody(), status: error.status, headers: headers)
            return
        case .notFound:
            throw EdgeError(status: .notFound, code: "NOT_FOUND", message: "no API route for \(request.path)")
        }
        let route = entry.route
        response.label = "\(route.verb.rawValue) \(route.path)"
        guard let peer = route.peer else {
            throw EdgeError(status: .internalServerError, code: "INTERNAL", message: "the route has no service")
        }
        let metadata = try await session.metadata(for: request, route: route)
        if route.clientStreaming {
            let client = try client(for: peer)
            try await DocumentUpload(route: route, schema: schema, limits: limits).forward(
                request, bindings: bindings, body: body, client: client, metadata: metadata, response: response,
                gateway: self)
            return
        }
        let (mode, message) = try session.prepare(
            route: route,
            message: try await requestMessage(route: route, request: request, bindings: bindings, body: body),
            request: request)
        // The request is read and checked before the service is looked for: a bad one is a 4xx
        // whether or not the service is up.
        let client = try client(for: peer)
        let descriptor = MethodDescriptor(
            service: route.service, method: route.method,
            kind: CallKind(clientStreaming: false, serverStreaming: route.serverStreaming))
        if route.serverStreaming, route.responseBody != nil {
            try await DocumentDownload().forward(
                descriptor: descriptor, message: message, client: client, metadata: metadata,
                timeout: limits.streamTimeout, response: response, gateway: self)
            return
        }
        if route.serverStreaming {
            try await stream(
                route: route, descriptor: descriptor, message: message, client: client, metadata: metadata,
                owner: await session.streamOwner(request), response: response)
            return
        }
        let reply: ClientResponse<[UInt8]>
        do {
            reply = try await client.unary(
                descriptor, request: message, metadata: metadata, options: CallOptions(timeout: limits.callTimeout),
                encode: { $0 }, decode: { $0 })
        } catch let error as RPCError {
            throw edgeError(error)
        }
        try await session.answer(
            mode: mode, reply: reply.message, route: route, request: request, schema: schema, response: response)
    }

    /// The client for `peer`; 503 when its address is not configured.
    private func client(for peer: PeerService) throws -> RPCClient {
        do {
            return try peers.client(for: peer)
        } catch {
            throw EdgeError(error, detailsJSON: nil)
        }
    }

    /// The request message from the path's variables, the query and the body.
    func requestMessage(
        route: HTTPRoute, request: EdgeRequest, bindings: [(fieldPath: [String], value: String)], body: RequestBody
    ) async throws -> [UInt8] {
        var builder = try transcode { () throws(ProtoJSONError) in
            try ProtoJSONRequestBuilder(
                schema: schema, messageType: route.requestType,
                limits: ProtoJSONLimits(maxDepth: limits.maximumJSONDepth))
        }
        if let field = route.body {
            if let length = request.headers.first(name: "content-length").flatMap(Int.init),
                length > limits.maximumBodyBytes
            {
                throw EdgeError(
                    status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                    message: "the request body is larger than \(limits.maximumBodyBytes) bytes")
            }
            let bytes = try await body.collect(limit: limits.maximumBodyBytes)
            if !bytes.isEmpty {
                try Self.requireJSON(request.headers)
                try transcode { () throws(ProtoJSONError) in
                    try builder.mergeBody(bytes, field: field == "*" ? nil : field)
                }
            }
        } else {
            guard try await body.discard(limit: limits.maximumBodyBytes) else {
                throw EdgeError(
                    status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                    message:
                        "this route takes no body, and the one sent is larger than \(limits.maximumBodyBytes) bytes")
            }
        }
        guard let pairs = PercentDecoding.queryPairs(request.query) else {
            throw EdgeError.badRequest("the query string is not valid percent-encoded UTF-8")
        }
        let parameters = pairs.filter { !BrowserSession.edgeQueryParameters.contains($0.key) }
        if route.body == "*", let first = parameters.first {
            throw EdgeError.badRequest(
                "query parameter \"\(first.key)\": this route takes the whole request in the JSON body")
        }
        for (key, value) in parameters {
            let path = key.split(separator: ".", omittingEmptySubsequences: false)
            if path.contains(where: { Self.credentialFields.contains(String($0)) }) {
                // URLs end up in logs and browser histories: credentials never travel in one.
                throw EdgeError.badRequest(
                    "query parameter \"\(key)\" carries a credential: it is not accepted in a URL")
            }
            try transcode { () throws(ProtoJSONError) in
                try builder.setParameter(
                    path: key.split(separator: ".", omittingEmptySubsequences: false).map(String.init), text: value)
            }
        }
        // An event stream resumed by the browser (EventSource) or a client after a break:
        // Last-Event-ID is the sequence it saw last.
        if route.serverStreaming, let last = request.headers.first(name: "last-event-id"),
            schema.message(route.requestType)?.field(named: "after_sequence") != nil
        {
            guard let sequence = Int64(last.trimmingCharacters(in: .whitespaces)), sequence >= 0 else {
                throw EdgeError.badRequest("Last-Event-ID must be an event's sequence (a non-negative integer)")
            }
            try transcode { () throws(ProtoJSONError) in
                try builder.setParameter(path: ["after_sequence"], text: String(sequence))
            }
        }
        // Path variables last: they win over the body and the query.
        for (fieldPath, value) in bindings {
            try transcode { () throws(ProtoJSONError) in try builder.setParameter(path: fieldPath, text: value) }
        }
        return try transcode { () throws(ProtoJSONError) in try builder.wireBytes() }
    }

    /// A server-streaming call as Server-Sent Events. The head waits for the first message, so
    /// a call that fails at once gets an HTTP error status rather than an error event.
    func stream(
        route: HTTPRoute, descriptor: MethodDescriptor, message: [UInt8], client: RPCClient, metadata: Metadata,
        owner: String, response: HTTPResponseWriter
    ) async throws {
        guard streams.acquire(owner) else {
            throw EdgeError(
                status: .tooManyRequests, code: "RESOURCE_EXHAUSTED",
                message: "too many open event streams for this tenant (EDGE_MAX_SSE_STREAMS_PER_TENANT)",
                retryAfterSeconds: 1)
        }
        defer { streams.release(owner) }
        let events = ServerSentEvents(schema: schema, messageType: route.responseType)
        let heartbeat = limits.heartbeatInterval
        do {
            // Beside the call, a comment line whenever the stream has been quiet for
            // EDGE_SSE_HEARTBEAT: proxies keep it open, and a client that went away is noticed
            // (the write fails) and its call cancelled.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.serverStreaming(
                        descriptor, request: message, metadata: metadata,
                        options: CallOptions(timeout: limits.streamTimeout), encode: { $0 }, decode: { $0 },
                        onResponse: { responses in
                            for try await message in responses {
                                let event = try transcode { () throws(ProtoJSONError) in try events.event(for: message)
                                }
                                if !response.started {
                                    try await response.start(status: .ok, headers: ServerSentEvents.headers)
                                }
                                try await response.write(event)
                            }
                        }
                    )
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeat)
                        try await response.heartbeat(ServerSentEvents.heartbeat, quietFor: heartbeat)
                    }
                }
                // The call's end (or the first failure) ends both.
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let error as RPCError {
            guard response.started else { throw edgeError(error) }
            try await response.write(ServerSentEvents.errorEvent(edgeError(error)))
        } catch let error as EdgeError {
            guard response.started else { throw error }
            try await response.write(ServerSentEvents.errorEvent(error))
        }
        if !response.started { try await response.start(status: .ok, headers: ServerSentEvents.headers) }
        try await response.end()
    }

    /// A service's error as the edge answers it: its ErrorDetails trailer in JSON.
    func edgeError(_ error: RPCError) -> EdgeError {
        let details = error.metadata[binaryValues: "agentplane-error-details-bin"].first
        let json = details.flatMap { try? schema.encode(wire: $0, as: "agentplane.v1.ErrorDetails", field: nil) }
        var retryAfter: Int?
        if let details, let field = schema.message("agentplane.v1.ErrorDetails")?.field(named: "retry_after"),
            let duration = WireFields(bytes: details).payload(Int(field.number))
        {
            // google.protobuf.Duration.seconds is field 1.
            let seconds = Int64(bitPattern: WireFields(bytes: duration).varint(1) ?? 0)
            retryAfter = Int(clamping: max(1, seconds))
        }
        return EdgeError(error, detailsJSON: json, retryAfterSeconds: retryAfter)
    }

    /// Field names that hold credentials: refused as query parameters.
    static let credentialFields: Set<String> = [
        "api_token", "apiToken", "password", "refresh_token", "refreshToken", "secret", "secrets", "token",
        "access_token", "accessToken",
    ]

    /// Requires a JSON content type for a body.
    static func requireJSON(_ headers: HTTPHeaders) throws {
        let type = headers.first(name: "content-type")?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard type == nil || type == "application/json" else {
            throw EdgeError(
                status: .unsupportedMediaType, code: "INVALID_ARGUMENT",
                message: "the body must be application/json, not \(type ?? "")")
        }
    }
}

/// Runs a ProtoJSON step, turning its error into a 400 naming the field.
func transcode<T>(_ body: () throws(ProtoJSONError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw EdgeError.badRequest(error.description)
    }
}
