import FoundationEssentials
import NIOHTTP1
import ProtoJSON

/// The browser-session side of AuthService through the edge: `POST /v1/auth/login?session=true`
/// and a cookie refresh set the cookies and keep the tokens out of the JSON; logout clears them.
extension BrowserSession {
    // Field numbers of the contract (control.proto): LoginResponse.tokens and
    // RefreshResponse.tokens are 1; TokenPair: access_token 1, refresh_token 3,
    // refresh_token_expires_at 4; RefreshRequest.refresh_token 1; Timestamp.seconds 1.
    private static let tokensField = 1
    private static let accessTokenField = 1
    private static let refreshTokenField = 3
    private static let refreshExpiryField = 4

    /// What a request to AuthService asks of the session.
    enum Mode: Sendable, Equatable {
        /// Not a session call: plain JSON.
        case none
        /// Sign in or refresh into cookies.
        case establish
        /// Sign out: clear the cookies.
        case end
    }

    /// The session mode of `route` for `request`, and the request message to send (a refresh
    /// without a `refreshToken` in its body takes the refresh cookie's; with neither it is 401
    /// UNAUTHENTICATED, as an expired session is, not a malformed request).
    func prepare(route: HTTPRoute, message: [UInt8], request: EdgeRequest) throws -> (Mode, [UInt8]) {
        guard route.service == "agentplane.v1.AuthService" else { return (.none, message) }
        switch route.method {
        case "Login":
            let pairs = PercentDecoding.queryPairs(request.query) ?? []
            let wanted = pairs.contains { $0.key == "session" && ["true", "1"].contains($0.value) }
            return (wanted ? .establish : .none, message)
        case "Refresh":
            let fields = WireFields(bytes: message)
            if let token = fields.payload(1), !token.isEmpty { return (.none, message) }
            guard let cookie = Self.cookie(Self.refreshCookie, in: request.headers) else {
                throw EdgeError(
                    status: .unauthorized, code: "UNAUTHENTICATED",
                    message: "no refresh token: neither refreshToken in the body nor the session's refresh cookie")
            }
            return (.establish, fields.replacing(1, with: Array(cookie.utf8)))
        case "Logout":
            return (.end, message)
        default:
            return (.none, message)
        }
    }

    /// Answers a successful call in `mode`: the reply as JSON, with cookies set or cleared.
    func answer(
        mode: Mode, reply: [UInt8], route: HTTPRoute, request: EdgeRequest, schema: ProtoSchema,
        response: HTTPResponseWriter
    ) async throws {
        var headers = HTTPHeaders()
        var wire = reply
        var csrf: String?
        var tokensJSON: [UInt8]?
        let secure = !Self.isPlainLoopback(request)
        switch mode {
        case .none:
            break
        case .end:
            for name in [Self.accessCookie, Self.refreshCookie, Self.csrfCookie] {
                headers.add(
                    name: "set-cookie",
                    value: Self.cookieLine(name, "", maxAge: 0, httpOnly: name != Self.csrfCookie, secure: secure))
            }
        case .establish:
            let reply = WireFields(bytes: reply)
            let tokens = WireFields(bytes: reply.payload(Self.tokensField) ?? [])
            guard let access = tokens.payload(Self.accessTokenField).map({ String(decoding: $0, as: UTF8.self) }),
                let refresh = tokens.payload(Self.refreshTokenField).map({ String(decoding: $0, as: UTF8.self) }),
                !access.isEmpty, !refresh.isEmpty
            else {
                throw EdgeError(status: .badGateway, code: "INTERNAL", message: "the sign-in returned no tokens")
            }
            let expiry = WireFields(bytes: tokens.payload(Self.refreshExpiryField) ?? []).varint(1).map {
                Int64(bitPattern: $0)
            }
            let now = Int64(Date().timeIntervalSince1970)
            let maxAge = max(0, (expiry ?? now + 86_400) - now)
            let token = csrfToken(for: access)
            csrf = token
            headers.add(
                name: "set-cookie",
                value: Self.cookieLine(Self.accessCookie, access, maxAge: maxAge, httpOnly: true, secure: secure))
            headers.add(
                name: "set-cookie",
                value: Self.cookieLine(
                    Self.refreshCookie, refresh, maxAge: maxAge, httpOnly: true, secure: secure, path: "/v1/auth"))
            headers.add(
                name: "set-cookie",
                value: Self.cookieLine(Self.csrfCookie, token, maxAge: maxAge, httpOnly: false, secure: secure))
            // The tokens stay out of the body (a script on the page never sees them); their
            // expiry times stay.
            wire = reply.removing([Self.tokensField])
            var pair = Array(#""tokens":{"#.utf8)
            for (field, name) in [(2, "accessTokenExpiresAt"), (Self.refreshExpiryField, "refreshTokenExpiresAt")] {
                guard let timestamp = tokens.payload(field) else { continue }
                if pair.last != UInt8(ascii: "{") { pair.append(UInt8(ascii: ",")) }
                JSONWriting.appendString(name, to: &pair)
                pair.append(UInt8(ascii: ":"))
                pair += try transcode { () throws(ProtoJSONError) in
                    try schema.encode(wire: timestamp, as: "google.protobuf.Timestamp")
                }
            }
            pair.append(UInt8(ascii: "}"))
            tokensJSON = pair
        }
        var json = try transcode { () throws(ProtoJSONError) in
            try schema.encode(wire: wire, as: route.responseType, field: route.responseBody)
        }
        if let tokensJSON, json.first == UInt8(ascii: "{") {
            json = [UInt8(ascii: "{")] + tokensJSON + (json.count > 2 ? [UInt8(ascii: ",")] : []) + json.dropFirst()
        }
        if let csrf, json.last == UInt8(ascii: "}") {
            json.removeLast()
            if json.count > 1 { json.append(UInt8(ascii: ",")) }
            json += Array(#""csrfToken":"#.utf8)
            JSONWriting.appendString(csrf, to: &json)
            json.append(UInt8(ascii: "}"))
        }
        try await response.respondJSON(json, headers: headers)
    }

    /// A `Set-Cookie` value: SameSite=Strict always; Secure unless plain HTTP on loopback.
    static func cookieLine(
        _ name: String, _ value: String, maxAge: Int64, httpOnly: Bool, secure: Bool, path: String = "/"
    ) -> String {
        var line = "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); SameSite=Strict"
        if httpOnly { line += "; HttpOnly" }
        if secure { line += "; Secure" }
        return line
    }

    /// Whether the request came over plain HTTP from this machine (the only case where cookies
    /// go without `Secure`, so a local console works without TLS).
    static func isPlainLoopback(_ request: EdgeRequest) -> Bool {
        !request.isTLS && (request.clientAddress.hasPrefix("127.") || request.clientAddress == "::1")
    }
}
