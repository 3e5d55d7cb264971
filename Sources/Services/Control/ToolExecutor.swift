import FlowEngine
import FlowEngineProto
import Foundation
import Logging
import RPCCore
import RPCModels
import Runtime
import RuntimeHTTP
import ToolRouting

/// Runs a tool call: an http tool against its URL through the runtime's outbound-URL policy,
/// every other kind through `ToolRouter`; the answer as a JSON object.
struct ToolExecutor: Sendable {
    let peers: PeerClients
    let http: OutboundHTTPClient

    func execute(_ call: ToolCall) async throws -> [String: JSONValue] {
        let config = ProtoJSON.members(call.tool.config)
        if call.tool.kind == .http { return try await httpCall(call, config: config) }
        return try await ToolRouter(peers: peers).execute(call)
    }

    private func httpCall(_ call: ToolCall, config: [String: JSONValue]) async throws -> [String: JSONValue] {
        guard let text = config["url"]?.stringValue, var components = URLComponents(string: text) else {
            throw RPCError(code: .failedPrecondition, message: "the http tool \(call.tool.name) has no usable url")
        }
        let method = OutboundRequest.Method(rawValue: config["method"]?.stringValue ?? "POST")
        var headers = OutboundHeaders()
        for (name, value) in (config["headers"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            headers.replaceOrAdd(name: name, value: value.stringValue ?? "")
        }
        // Secrets are sent as headers of the same name (e.g. Authorization), set last so they win,
        // and marked secret: a redirect to another origin drops them.
        for (name, value) in call.secrets.sorted(by: { $0.key < $1.key }) {
            headers.replaceOrAdd(name: name, value: value, secret: true)
        }
        if !call.idempotencyKey.isEmpty { headers.replaceOrAdd(name: "Idempotency-Key", value: call.idempotencyKey) }
        var body: [UInt8] = []
        if method == .get || method == .delete {
            let query = call.arguments.sorted(by: { $0.key < $1.key }).map { name, value in
                URLQueryItem(name: name, value: value.templateText)
            }
            if !query.isEmpty { components.queryItems = (components.queryItems ?? []) + query }
        } else {
            headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            body = Array(JSONValue.object(call.arguments).jsonText.utf8)
        }
        guard let url = components.url else {
            throw RPCError(code: .failedPrecondition, message: "the http tool \(call.tool.name) has no usable url")
        }
        // The URL as built must still be at the secrets' origin (the handler checked the config's).
        if !call.secrets.isEmpty, OutboundOrigin(url)?.description != call.secretsOrigin {
            throw RPCError(
                code: .failedPrecondition,
                message: "the http tool \(call.tool.name) would send its secrets to another origin than they were "
                    + "saved for; supply them again with UpdateTool")
        }
        let response: OutboundResponse
        do {
            response = try await http.execute(
                OutboundRequest(method: method, url: url, headers: headers, body: body, timeout: call.timeout))
        } catch let error as OutboundHTTPError {
            switch error.code {
            case .policy: throw RPCError(code: .failedPrecondition, message: "the tool's URL is not allowed: \(error)")
            case .timeout:
                throw RPCError(code: .deadlineExceeded, message: "the tool's endpoint did not answer in time")
            default: throw RPCError(code: .unavailable, message: "the tool's endpoint failed: \(error.code)")
            }
        }
        switch response.status {
        case 200..<300: break
        case 429: throw RPCError(code: .resourceExhausted, message: "the tool's endpoint rate-limited the call (429)")
        case 500...: throw RPCError(code: .unavailable, message: "the tool's endpoint answered \(response.status)")
        default:
            throw RPCError(code: .failedPrecondition, message: "the tool's endpoint answered \(response.status)")
        }
        let parsed =
            (try? JSONValue.parse(Data(response.body))) ?? .string(String(decoding: response.body, as: UTF8.self))
        return ["status": .number(Double(response.status)), "body": parsed]
    }

}
