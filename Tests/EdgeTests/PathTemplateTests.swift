import Testing

@testable import Edge

@Suite("google.api.http path templates and the route table")
struct PathTemplateTests {
    private func segments(_ path: String) -> [Substring] {
        path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
    }

    @Test func parsesAndMatchesVariables() throws {
        let template = try PathTemplate("/v1/agents/{agent_id}")
        #expect(template.variables == [["agent_id"]])
        let bound = try #require(template.match(segments: segments("/v1/agents/a%20b"), verb: nil))
        #expect(bound.map(\.fieldPath) == [["agent_id"]])
        #expect(bound.map(\.value) == ["a b"])
        #expect(template.match(segments: segments("/v1/agents"), verb: nil) == nil)
        #expect(template.match(segments: segments("/v1/agents/x/y"), verb: nil) == nil)
        #expect(template.match(segments: segments("/v1/agents/"), verb: nil) == nil)
        // Not valid percent-encoding, or not UTF-8: no match.
        #expect(template.match(segments: segments("/v1/agents/%zz"), verb: nil) == nil)
        #expect(template.match(segments: segments("/v1/agents/%ff"), verb: nil) == nil)
    }

    @Test func multiSegmentCapturesKeepEncodedSlashes() throws {
        let template = try PathTemplate("/v1/{name=files/**}:download")
        #expect(template.verb == "download")
        let bound = try #require(template.match(segments: segments("/v1/files/a/b%2Fc"), verb: "download"))
        #expect(bound.first?.value == "files/a/b%2Fc")
        #expect(bound.first?.fieldPath == ["name"])
        #expect(template.match(segments: segments("/v1/files/a"), verb: nil) == nil)
    }

    @Test func refusesWhatIsNotTheGrammar() {
        for bad in ["v1/x", "/v1//x", "/v1/x/", "/v1/{a", "/v1/{a.}", "/v1/**/x", "/v1/pre{a}", "/v1/x:", "/v1/{1a}"] {
            #expect(throws: PathTemplate.ParseError.self, "\(bad)") { try PathTemplate(bad) }
        }
    }

    @Test func theTableFindsTheMostSpecificRouteAndAnswers405() throws {
        func route(_ verb: HTTPRoute.Verb, _ path: String, _ method: String) -> HTTPRoute {
            HTTPRoute(
                verb: verb, path: path, body: nil, responseBody: nil, service: "s", method: method, requestType: "r",
                responseType: "r", clientStreaming: false, serverStreaming: false, protoFile: "f")
        }
        let table = try RouteTable(routes: [
            route(.get, "/v1/users/{user_id}", "GetUser"), route(.post, "/v1/users/me/api-keys", "CreateApiKey"),
            route(.get, "/v1/users/{user_id}/api-keys", "ListApiKeys"),
        ])
        guard case .found(let entry, _) = table.lookup(method: "POST", path: "/v1/users/me/api-keys") else {
            Issue.record("not found")
            return
        }
        #expect(entry.route.method == "CreateApiKey")
        guard case .found(let list, let bound) = table.lookup(method: "GET", path: "/v1/users/me/api-keys") else {
            Issue.record("not found")
            return
        }
        #expect(list.route.method == "ListApiKeys")
        #expect(bound.first?.value == "me")
        guard case .methodNotAllowed(let allowed) = table.lookup(method: "DELETE", path: "/v1/users/u1") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["GET"])
        guard case .notFound = table.lookup(method: "GET", path: "/v2/users") else {
            Issue.record("expected 404")
            return
        }
    }

    @Test func theGeneratedTableParses() throws {
        let table = try RouteTable(routes: HTTPRoute.all)
        #expect(table.entries.count == HTTPRoute.all.count)
        // The contract's fixed paths are there.
        for (verb, path) in [
            ("POST", "/v1/auth/login"), ("POST", "/v1/auth/refresh"), ("GET", "/v1/agents"), ("POST", "/v1/agents"),
            ("GET", "/v1/agents/a1"), ("POST", "/v1/conversations"), ("POST", "/v1/conversations/c1/messages"),
            ("GET", "/v1/runs/r1"), ("POST", "/v1/documents"), ("GET", "/v1/documents/d1/content"),
            ("POST", "/v1/kb/search"), ("POST", "/v1/users/me/api-keys"),
        ] {
            guard case .found = table.lookup(method: verb, path: Substring(path)) else {
                Issue.record("\(verb) \(path) has no route")
                continue
            }
        }
    }

    @Test func percentDecodingOfQueries() {
        let pairs = PercentDecoding.queryPairs("a=1&b=x+y&c=%E2%9C%93&d")
        #expect(pairs?.map(\.key) == ["a", "b", "c", "d"])
        #expect(pairs?.map(\.value) == ["1", "x y", "✓", ""])
        #expect(PercentDecoding.queryPairs("a=%ff") == nil)
        #expect(PercentDecoding.queryPairs("a=%4") == nil)
        #expect(PercentDecoding.queryPairs("=1") == nil)
    }
}
