import Foundation
import Synchronization
import TestSupport

/// A local HTTP server that answers like Zammad's ticket endpoints, with only endpoints real
/// Zammad has: POST/GET/PUT /api/v1/tickets[/{id}], GET /api/v1/tickets/search?query=tags:…,
/// POST /api/v1/tags/add, DELETE /api/v1/tags/remove, GET /api/v1/tags?object=Ticket&o_id=….
/// Its JSON mirrors Zammad's (`expand=true` shapes, `{"error", "error_human"}` error bodies),
/// and it can lose the response to the next create to test retries.
final class FakeZammad: Sendable {
    /// A ticket the fake holds.
    struct Ticket: Sendable {
        var id: Int64
        var number: Int64
        var title: String
        var group: String
        var state: String
        var priority: String
        var customer: String
        var owner: String
        var tags: [String]
        var articles: [Article]
    }

    /// An article (message) of a ticket.
    struct Article: Sendable {
        var id: Int64
        var body: String
        var isInternal: Bool
        var from: String
    }

    /// What happens to the answer of the next POST /api/v1/tickets after the ticket was created.
    enum CreateFault: Sendable {
        case none
        /// The connection is closed without an answer.
        case dropConnection
        /// No answer ever comes (the client times out).
        case stall
    }

    struct State: Sendable {
        var tickets: [Int64: Ticket] = [:]
        var nextID: Int64 = 40
        var nextNumber: Int64 = 31_001
        var nextArticleID: Int64 = 700
        var createFault = CreateFault.none
        /// Every request is left unanswered (a Zammad that hangs); counted in `stalled`.
        var stallsEverything = false
        var stalled = 0
        var requests: [String] = []
        var authorizations: [String] = []
        /// Answers given instead of the real one, oldest first (a proxy's 429 or 502, say).
        var scriptedAnswers: [(status: Int, body: [String: String], headers: [(String, String)])] = []
    }

    static let groups: Set<String> = ["Users", "Support"]
    let token: String
    let state = Mutex(State())
    private let server = Mutex<TestHTTPServer?>(nil)

    private init(token: String) {
        self.token = token
    }

    /// A started fake accepting `Authorization: Token token=<token>`.
    static func start(token: String = "zammad-test-token") async throws -> FakeZammad {
        let fake = FakeZammad(token: token)
        let server = try await TestHTTPServer.start { [weak fake] request, responder in
            guard let fake else { return responder.close() }
            switch fake.handle(
                method: request.method, uri: request.uri, authorization: request.headers["authorization"],
                body: request.body)
            {
            case .respond(let status, let json, let headers):
                responder.respond(status: status, json: json, headers: headers)
            case .drop: responder.close()
            case .stall: break
            }
        }
        fake.server.withLock { $0 = server }
        return fake
    }

    var port: Int { server.withLock { $0?.port ?? 0 } }

    func stop() async {
        await server.withLock { $0 }?.stop()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var tickets: [Ticket] { state.withLock { Array($0.tickets.values).sorted { $0.id < $1.id } } }
    var requests: [String] { state.withLock { $0.requests } }
    var authorizations: [String] { state.withLock { $0.authorizations } }

    /// Makes the next request get `status` with `body` (and `headers`) instead of its answer.
    func answerNext(status: Int, body: [String: String], headers: [(String, String)] = []) {
        state.withLock { $0.scriptedAnswers.append((status, body, headers)) }
    }

    /// Makes every later request go unanswered (true), or answers again (false).
    func stallEverything(_ stalls: Bool) {
        state.withLock { $0.stallsEverything = stalls }
    }

    /// Requests left unanswered by `stallEverything`.
    var stalled: Int { state.withLock { $0.stalled } }

    func setCreateFault(_ fault: CreateFault) {
        state.withLock { $0.createFault = fault }
    }

    /// What the handler should do with a request.
    enum Outcome {
        case respond(Int, Any, headers: [(String, String)] = [])
        case drop
        case stall
    }

    /// Zammad's behaviour for one request.
    func handle(method: String, uri: String, authorization: String?, body: [UInt8]) -> Outcome {
        let components = URLComponents(string: uri)
        let path = components?.path ?? uri
        let query = Dictionary(
            (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let stalls = state.withLock {
            $0.requests.append("\(method) \(path)")
            $0.authorizations.append(authorization ?? "")
            if $0.stallsEverything { $0.stalled += 1 }
            return $0.stallsEverything
        }
        if stalls { return .stall }
        let scripted = state.withLock { $0.scriptedAnswers.isEmpty ? nil : $0.scriptedAnswers.removeFirst() }
        if let scripted { return .respond(scripted.status, scripted.body, headers: scripted.headers) }
        guard authorization == "Token token=\(token)" else {
            // Token auth that finds no user: Exceptions::NotAuthorized, rendered by HandlesErrors.
            return .respond(
                401, ["error": "Can't find User for Token", "error_human": "Can't find User for Token"])
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        let segments = path.split(separator: "/").map(String.init)
        switch (method, segments) {
        case ("POST", ["api", "v1", "tickets"]):
            return create(json)
        case ("GET", ["api", "v1", "tickets", "search"]):
            return search(query["query"] ?? "")
        case ("GET", let parts) where parts.count == 4 && parts[2] == "tickets":
            guard let id = Int64(parts[3]), let ticket = state.withLock({ $0.tickets[id] }) else {
                return notFound()
            }
            return .respond(200, Self.json(ticket))
        case ("PUT", let parts) where parts.count == 4 && parts[2] == "tickets":
            guard let id = Int64(parts[3]) else { return notFound() }
            return update(id, json)
        case ("POST", ["api", "v1", "tags", "add"]), ("DELETE", ["api", "v1", "tags", "remove"]):
            guard json["object"] as? String == "Ticket", let id = (json["o_id"] as? NSNumber)?.int64Value,
                let item = json["item"] as? String
            else { return unprocessable("Need object, o_id and item") }
            let found = state.withLock { state -> Bool in
                guard var ticket = state.tickets[id] else { return false }
                if method == "POST" {
                    if !ticket.tags.contains(item) { ticket.tags.append(item) }
                } else {
                    ticket.tags.removeAll { $0 == item }
                }
                state.tickets[id] = ticket
                return true
            }
            return found ? .respond(200, true) : notFound()
        case ("GET", let parts) where parts.count == 5 && parts[2] == "ticket_articles" && parts[3] == "by_ticket":
            guard let id = Int64(parts[4]), let ticket = state.withLock({ $0.tickets[id] }) else { return notFound() }
            return .respond(200, ticket.articles.map { Self.json($0, ticketID: id) })
        case ("GET", ["api", "v1", "tags"]):
            guard query["object"] == "Ticket", let id = Int64(query["o_id"] ?? ""),
                let ticket = state.withLock({ $0.tickets[id] })
            else { return notFound() }
            return .respond(200, ["tags": ticket.tags])
        default:
            return .respond(404, ["error": "No route matches [\(method)] \"\(path)\""])
        }
    }

    private func create(_ json: [String: Any]) -> Outcome {
        guard let title = json["title"] as? String, !title.isEmpty else {
            return unprocessable("Title can't be blank")
        }
        guard let group = json["group"] as? String, Self.groups.contains(group) else {
            return unprocessable("No lookup value found for 'group': \"\(json["group"] as? String ?? "")\"")
        }
        var customer = json["customer"] as? String ?? ""
        if let guess = json["customer_id"] as? String, guess.hasPrefix("guess:") {
            customer = String(guess.dropFirst("guess:".count))
        }
        let tags = (json["tags"] as? String)?.split(separator: ",").map(String.init) ?? []
        let article = json["article"] as? [String: Any]
        let (ticket, fault) = state.withLock { state in
            var articles: [Article] = []
            if let article {
                articles.append(Self.article(article, id: state.nextArticleID, from: customer))
                state.nextArticleID += 1
            }
            let ticket = Ticket(
                id: state.nextID, number: state.nextNumber, title: title, group: group, state: "new",
                priority: json["priority"] as? String ?? "2 normal", customer: customer, owner: "-", tags: tags,
                articles: articles)
            state.tickets[ticket.id] = ticket
            state.nextID += 1
            state.nextNumber += 1
            defer { state.createFault = .none }
            return (ticket, state.createFault)
        }
        switch fault {
        case .none: return .respond(201, Self.json(ticket))
        case .dropConnection: return .drop
        case .stall: return .stall
        }
    }

    private func update(_ id: Int64, _ json: [String: Any]) -> Outcome {
        let updated = state.withLock { state -> Ticket? in
            guard var ticket = state.tickets[id] else { return nil }
            if let title = json["title"] as? String { ticket.title = title }
            if let value = json["state"] as? String { ticket.state = value }
            if let priority = json["priority"] as? String { ticket.priority = priority }
            if let owner = json["owner"] as? String { ticket.owner = owner }
            if json["owner_id"] as? Int == 1 { ticket.owner = "-" }
            if let article = json["article"] as? [String: Any] {
                ticket.articles.append(Self.article(article, id: state.nextArticleID, from: "Agentplane Bot"))
                state.nextArticleID += 1
            }
            state.tickets[id] = ticket
            return ticket
        }
        guard let updated else { return notFound() }
        return .respond(200, Self.json(updated))
    }

    /// Search answers in Zammad's non-expanded shape: ids plus assets.
    private func search(_ query: String) -> Outcome {
        let wanted = query.hasPrefix("tags:") ? String(query.dropFirst("tags:".count)) : query
        let matches = state.withLock { state in
            state.tickets.values.filter { $0.tags.contains(wanted) || $0.title.contains(wanted) }.sorted {
                $0.id > $1.id
            }
        }
        var assets: [String: Any] = [:]
        for ticket in matches { assets[String(ticket.id)] = Self.json(ticket) }
        return .respond(
            200, ["tickets": matches.map(\.id), "tickets_count": matches.count, "assets": ["Ticket": assets]])
    }

    private func notFound() -> Outcome {
        .respond(404, ["error": "Couldn't find Ticket with 'id'=0", "error_human": "Couldn't find Ticket"])
    }

    private func unprocessable(_ message: String) -> Outcome {
        .respond(422, ["error": message, "error_human": message])
    }

    private static func article(_ json: [String: Any], id: Int64, from: String) -> Article {
        Article(
            id: id, body: json["body"] as? String ?? "", isInternal: json["internal"] as? Bool ?? false, from: from)
    }

    /// An article as GET /api/v1/ticket_articles/by_ticket/{id} renders it.
    static func json(_ article: Article, ticketID: Int64) -> [String: Any] {
        [
            "id": article.id, "ticket_id": ticketID, "type_id": 10, "sender_id": 1, "from": article.from,
            "to": NSNull(), "subject": NSNull(), "content_type": "text/plain", "body": article.body,
            "internal": article.isInternal, "type": "note", "sender": "Agent", "created_by": "agent@example.com",
            "created_at": "2026-01-01T10:0\(article.id % 10):00.123Z", "updated_at": "2026-01-01T10:00:00.123Z",
        ]
    }

    /// A ticket as `attributes_with_association_names` renders it (expand=true).
    static func json(_ ticket: Ticket) -> [String: Any] {
        [
            "id": ticket.id, "group_id": 1, "priority_id": Int(ticket.priority.prefix(1)) ?? 2, "state_id": 1,
            "organization_id": NSNull(), "number": String(ticket.number), "title": ticket.title, "owner_id": 1,
            "customer_id": 2, "note": NSNull(), "article_count": ticket.articles.count,
            "created_at": "2026-01-01T10:00:00.000Z", "updated_at": "2026-01-01T10:00:00.000Z",
            "group": ticket.group, "state": ticket.state, "priority": ticket.priority, "owner": ticket.owner,
            "customer": ticket.customer,
        ]
    }
}
