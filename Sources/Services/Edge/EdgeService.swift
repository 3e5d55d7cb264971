public import Logging
import Metrics
import NIOHTTP1
import RuntimeObservability

/// What the edge serves on its port: the API under `/v1/` (JSON and Server-Sent Events),
/// `/openapi.json`, and the web console's files for everything else; CORS for the allowed
/// origins. Every failure is answered as the edge's JSON error.
public struct EdgeService: EdgeRequestHandling {
    let gateway: JSONGateway
    let grpcWeb: GRPCWebGateway
    let files: StaticFiles
    let corsOrigins: Set<String>
    let logger: Logger

    /// The service over `gateway`, serving the console from `webRoot`.
    public init(
        gateway: JSONGateway, grpcWeb: GRPCWebGateway, webRoot: String, corsOrigins: [String], logger: Logger
    ) {
        self.gateway = gateway
        self.grpcWeb = grpcWeb
        files = StaticFiles(root: webRoot)
        self.corsOrigins = Set(corsOrigins)
        self.logger = logger
    }

    /// Answers one request inside its trace span and request id, as a service's call runs
    /// (TracingInterceptor): the client's `traceparent` continued as a new span, or a new trace;
    /// `x-request-id` adopted or made, and echoed. The calls it forwards carry both.
    public func handle(_ request: EdgeRequest, body: RequestBody, response: HTTPResponseWriter) async {
        let tracestate = request.headers[canonicalForm: "tracestate"].joined(separator: ",")
        let incoming = request.headers.first(name: "traceparent").flatMap {
            TraceContext(traceparent: $0, tracestate: tracestate.isEmpty ? nil : tracestate)
        }
        let span = incoming?.child() ?? TraceContext.random()
        let requestID =
            request.headers.first(name: RequestID.metadataKey).flatMap { RequestID.isAcceptable($0) ? $0 : nil }
            ?? RequestID.generate()
        response.addCommonHeader(name: RequestID.metadataKey, value: requestID)
        let logMetadata: Logger.Metadata = [
            "trace_id": .string(span.traceID), "span_id": .string(span.spanID), "request_id": .string(requestID),
        ]
        await TraceContext.$current.withValue(span) {
            await RequestID.$current.withValue(requestID) {
                await LogContext.with(logMetadata) { await serve(request, body: body, response: response) }
            }
        }
    }

    /// Answers one request: the route's answer, or the error as JSON; counts it in the metrics.
    private func serve(_ request: EdgeRequest, body: RequestBody, response: HTTPResponseWriter) async {
        let started = ContinuousClock.now
        do {
            try await route(request, body: body, response: response)
        } catch let error as EdgeError {
            await answer(error, response: response)
        } catch {
            // A client that went away mid-stream is not worth a warning.
            if response.started {
                logger.debug("response cut short", metadata: ["path": "\(request.path)", "error": "\(error)"])
            } else {
                logger.warning("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            }
            await answer(
                EdgeError(status: .internalServerError, code: "INTERNAL", message: "the edge failed: \(error)"),
                response: response)
        }
        let elapsed = ContinuousClock.now - started
        let dimensions = [("route", response.label), ("status", String(response.status.code))]
        Counter(label: "edge_requests_total", dimensions: dimensions).increment()
        Timer(label: "edge_request_duration_seconds", dimensions: [("route", response.label)]).recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        logger.debug(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.path)", "status": "\(response.status.code)",
                "ms": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)",
            ])
    }

    private func route(_ request: EdgeRequest, body: RequestBody, response: HTTPResponseWriter) async throws {
        if let origin = request.headers.first(name: "origin"), corsOrigins.contains(origin) {
            response.addCORS(origin: origin)
            if request.method == .OPTIONS {
                var headers = HTTPHeaders()
                headers.add(name: "access-control-allow-methods", value: "GET, POST, PUT, PATCH, DELETE")
                headers.add(
                    name: "access-control-allow-headers",
                    value: "authorization, content-type, x-csrf-token, last-event-id, x-grpc-web, x-user-agent")
                headers.add(name: "access-control-max-age", value: "600")
                try await response.respond(status: .noContent, headers: headers, body: [])
                return
            }
        }
        if GRPCWebGateway.isGRPCWeb(request) {
            try await grpcWeb.handle(request, body: body, response: response)
        } else if request.path.hasPrefix("/v1/") {
            try await gateway.handle(request, body: body, response: response)
        } else if request.path == "/openapi.json" {
            response.label = "openapi"
            guard request.method == .GET else {
                throw EdgeError(status: .methodNotAllowed, code: "UNIMPLEMENTED", message: "GET only")
            }
            var headers = HTTPHeaders()
            headers.add(name: "cache-control", value: "no-cache")
            try await response.respondJSON(Array(OpenAPIDocument.json.utf8), headers: headers)
        } else {
            response.label = "static"
            try await files.serve(request, response: response)
        }
    }

    private func answer(_ error: EdgeError, response: HTTPResponseWriter) async {
        if response.started {
            // Too late for a status: the stream ends here.
            try? await response.end()
            return
        }
        try? await response.respond(error: error)
    }
}
