import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeHTTP

/// Zammad's REST API (tickets, search, tags) through the outbound HTTP client, so the
/// outbound-URL policy applies to every tenant-supplied base URL. Upstream failures become
/// the statuses ticketing.proto names.
struct ZammadClient: Sendable {
    let http: OutboundHTTPClient
    /// The time one call may take, shortened to the gRPC call's own deadline.
    let timeout: Duration
    /// When every call must have ended (the end of the claim the work runs under); nil: none.
    var deadline: ContinuousClock.Instant? = nil

    /// This client with every call ending by `deadline`; a call past it is DEADLINE_EXCEEDED.
    func bounded(by deadline: ContinuousClock.Instant?) -> ZammadClient {
        var bounded = self
        bounded.deadline = deadline
        return bounded
    }

    /// What a new ticket needs.
    struct NewTicket: Sendable {
        var title: String
        var body: String
        var priority: Agentplane_V1_TicketPriority
        var requester: String
        var tags: [String]
    }

    /// POST /api/v1/tickets: the ticket with a first article (a note), tagged with `tags` in the
    /// same request, so a ticket never exists without its idempotency tag.
    func createTicket(_ connection: ZammadConnection, _ new: NewTicket) async throws -> ZammadTicket {
        var payload: [String: Any] = [
            "title": new.title, "group": connection.group, "priority": ZammadTicket.priorityName(new.priority),
            "article": [
                "subject": new.title, "body": new.body.isEmpty ? new.title : new.body, "type": "note",
                "internal": false, "content_type": "text/plain",
            ] as [String: Any],
        ]
        if new.requester.contains("@") {
            // "guess:" makes Zammad find the customer by email, or create one.
            payload["customer_id"] = "guess:\(new.requester)"
        } else if !new.requester.isEmpty {
            payload["customer"] = new.requester
        }
        if !new.tags.isEmpty { payload["tags"] = new.tags.joined(separator: ",") }
        let json = try await call(connection, .post, "/api/v1/tickets?expand=true", body: payload)
        return try ticket(from: json)
    }

    /// GET /api/v1/tickets/{id}.
    func ticket(_ connection: ZammadConnection, id: Int64) async throws -> ZammadTicket {
        try ticket(from: try await call(connection, .get, "/api/v1/tickets/\(id)?expand=true"))
    }

    /// PUT /api/v1/tickets/{id} with the changed attributes (and an article for a comment).
    func updateTicket(_ connection: ZammadConnection, id: Int64, changes: [String: Any]) async throws -> ZammadTicket {
        try ticket(from: try await call(connection, .put, "/api/v1/tickets/\(id)?expand=true", body: changes))
    }

    /// The ids of the tickets carrying `tag` (GET /api/v1/tickets/search?query=tags:…), then
    /// confirmed with GET /api/v1/tags, because a search is a full-text match.
    func tickets(_ connection: ZammadConnection, taggedWith tag: String) async throws -> [Int64] {
        let query = "tags:\(tag)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? tag
        let json = try await call(connection, .get, "/api/v1/tickets/search?query=\(query)&limit=10")
        let ids: [Int64]
        if let object = json as? [String: Any], let list = object["tickets"] as? [Any] {
            ids = list.compactMap(ZammadTicket.integer)
        } else if let list = json as? [[String: Any]] {
            ids = list.compactMap { ZammadTicket.integer($0["id"]) }
        } else {
            throw unexpected("the ticket search")
        }
        var confirmed: [Int64] = []
        for id in ids.sorted() where try await tags(connection, ticketID: id).contains(tag) {
            confirmed.append(id)
        }
        return confirmed
    }

    /// The ticket's articles as comments, oldest first (GET /api/v1/ticket_articles/by_ticket/{id}).
    func articles(_ connection: ZammadConnection, ticketID: Int64) async throws -> [Agentplane_V1_TicketComment] {
        let json = try await call(connection, .get, "/api/v1/ticket_articles/by_ticket/\(ticketID)")
        guard let list = json as? [[String: Any]] else { throw unexpected("the article list") }
        return list.compactMap(ZammadArticle.comment(from:))
    }

    /// GET /api/v1/tags?object=Ticket&o_id={id}.
    func tags(_ connection: ZammadConnection, ticketID: Int64) async throws -> [String] {
        let json = try await call(connection, .get, "/api/v1/tags?object=Ticket&o_id=\(ticketID)")
        guard let object = json as? [String: Any], let tags = object["tags"] as? [String] else {
            throw unexpected("the tag list")
        }
        return tags
    }

    /// POST /api/v1/tags/add.
    func addTag(_ connection: ZammadConnection, ticketID: Int64, tag: String) async throws {
        _ = try await call(
            connection, .post, "/api/v1/tags/add", body: ["object": "Ticket", "o_id": ticketID, "item": tag])
    }

    /// DELETE /api/v1/tags/remove.
    func removeTag(_ connection: ZammadConnection, ticketID: Int64, tag: String) async throws {
        _ = try await call(
            connection, .delete, "/api/v1/tags/remove", body: ["object": "Ticket", "o_id": ticketID, "item": tag])
    }

    // MARK: Calls

    private func ticket(from json: Any) throws -> ZammadTicket {
        guard let object = json as? [String: Any], let ticket = ZammadTicket(json: object) else {
            throw unexpected("a ticket")
        }
        return ticket
    }

    /// One call; the decoded JSON of a 2xx answer, otherwise the mapped RPCError.
    private func call(
        _ connection: ZammadConnection, _ method: OutboundRequest.Method, _ path: String, body: [String: Any]? = nil
    ) async throws -> Any {
        guard let url = URL(string: connection.baseURL + path) else {
            throw RPCError.invalidField(
                "backend_config.base_url", code: "INVALID_URL", "the Zammad base URL does not form a valid URL")
        }
        var headers: OutboundHeaders = [
            "Authorization": "Token token=\(connection.token)", "Accept": "application/json",
        ]
        var bytes: [UInt8] = []
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            bytes = Array(try JSONSerialization.data(withJSONObject: body))
        }
        var limit = timeout
        if let remaining = ServerContext.current?.timeRemaining, remaining < limit { limit = max(remaining, .zero) }
        if let deadline {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw RPCError(
                    code: .deadlineExceeded,
                    message: "the work with Zammad ran past its claim (TICKETING_CLAIM_LEASE); retry with the same key")
            }
            limit = min(limit, left)
        }
        let response: OutboundResponse
        do {
            response = try await http.execute(
                OutboundRequest(method: method, url: url, headers: headers, body: bytes, timeout: limit))
        } catch let error as OutboundHTTPError {
            throw Self.status(for: error)
        }
        guard (200..<300).contains(response.status) else {
            throw Self.status(forHTTP: response.status, body: response.body, headers: response.headers)
        }
        if response.body.isEmpty { return [String: Any]() }
        guard let json = try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
        else { throw unexpected("JSON") }
        return json
    }

    private func unexpected(_ what: String) -> RPCError {
        RPCError(code: .unavailable, message: "Zammad answered something other than \(what); check base_url")
    }

    /// The status for a call that got no usable answer.
    static func status(for error: OutboundHTTPError) -> RPCError {
        switch error.code {
        case .timeout:
            RPCError(code: .deadlineExceeded, message: "Zammad did not answer in time (\(error.message))")
        case .policy:
            RPCError.invalidField("backend_config.base_url", code: "URL_REFUSED", error.message)
        default:
            RPCError(code: .unavailable, message: "Zammad is unreachable: \(error.message); retry later")
        }
    }

    /// The status for a non-2xx answer (see CreateTicket in ticketing.proto).
    static func status(forHTTP status: Int, body: [UInt8], headers: OutboundHeaders) -> RPCError {
        let message = errorMessage(body) ?? "HTTP \(status)"
        switch status {
        case 401, 403:
            return RPCError(code: .permissionDenied, message: "Zammad rejected the API token: \(message)")
        case 422:
            return RPCError.withDetails(
                .invalidArgument, "Zammad refused the ticket: \(message)", reason: "ZAMMAD_UNPROCESSABLE")
        case 429:
            // Zammad's (or its proxy's) number: a negative one is read as "now".
            let seconds = headers.first(name: "retry-after").flatMap { Int($0) }.map { max($0, 0) }
            return RPCError.withDetails(
                .resourceExhausted, "Zammad is rate-limiting these calls: \(message)", reason: "RATE_LIMITED",
                retryAfter: seconds.map { .seconds($0) })
        case 404:
            return RPCError(code: .notFound, message: "Zammad has no such resource (\(message)); check base_url")
        case 500...:
            return RPCError(code: .unavailable, message: "Zammad failed with HTTP \(status): \(message); retry later")
        default:
            return RPCError(
                code: .failedPrecondition, message: "Zammad refused the call with HTTP \(status): \(message)")
        }
    }

    /// Zammad's error text: `error_human`, else `error` (ApplicationController::HandlesErrors).
    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return nil
        }
        let text = (object["error_human"] as? String) ?? (object["error"] as? String)
        return text.map { String($0.prefix(500)) }
    }
}
