import Crypto
import FoundationEssentials
import NIOHTTP1
public import RPCCore
public import RuntimeSecurity

/// How a request proves who it is — `Authorization: Bearer` (a JWT or an API key), or the
/// browser session's cookies with the CSRF token on unsafe methods — and how sign-in, refresh
/// and sign-out set and clear those cookies (docs/EDGE.md, "Browser sessions").
public struct BrowserSession: Sendable {
    /// The access token's cookie (HttpOnly).
    public static let accessCookie = "agentplane_access"
    /// The refresh token's cookie (HttpOnly).
    public static let refreshCookie = "agentplane_refresh"
    /// The CSRF token's cookie (readable by the page's script).
    public static let csrfCookie = "agentplane_csrf"
    /// The header that must echo the CSRF token on unsafe methods of a cookie session.
    public static let csrfHeader = "x-csrf-token"
    /// Query parameters the edge reads itself, never fields of a request message.
    static let edgeQueryParameters: Set<String> = ["session"]

    private let csrfKey: SymmetricKey
    private let identity: EdgeIdentity
    private let verifier: TokenVerifier
    private let apiKeys: APIKeyExchange?

    /// A session scheme keyed by the platform's secret (the CSRF token is an HMAC of the access
    /// token, so no one without the secret can forge one for a cookie they planted).
    /// API keys on routes of other services than control go through `apiKeys`.
    public init(secret: [UInt8], identity: EdgeIdentity, verifier: TokenVerifier, apiKeys: APIKeyExchange? = nil) {
        csrfKey = SymmetricKey(data: SHA256.hash(data: Array("agentplane-edge-csrf".utf8) + secret))
        self.identity = identity
        self.verifier = verifier
        self.apiKeys = apiKeys
    }

    /// The metadata a forwarded call carries: the caller's credentials and the client's
    /// address with the edge's identity. Throws 403 for a cookie session's
    /// unsafe request without the right CSRF token.
    func metadata(for request: EdgeRequest, route: HTTPRoute) async throws -> Metadata {
        var metadata = Metadata()
        // Signing in needs no credentials: an old session's cookie is not sent (nor checked).
        let signsIn = route.service == "agentplane.v1.AuthService" && route.method == "Login"
        if let authorization = request.headers.first(name: "authorization") {
            metadata.addString(authorization, forKey: "authorization")
        } else if !signsIn, let access = Self.cookie(Self.accessCookie, in: request.headers) {
            if Self.isUnsafe(request.method) {
                guard let sent = request.headers.first(name: Self.csrfHeader),
                    constantTimeEqual(Array(sent.utf8), Array(csrfToken(for: access).utf8))
                else {
                    throw EdgeError(
                        status: .forbidden, code: "PERMISSION_DENIED",
                        message:
                            "a cookie session's \(request.method.rawValue) must send the CSRF token in X-CSRF-Token")
                }
            }
            metadata.addString("Bearer \(access)", forKey: "authorization")
        }
        metadata.addString(request.clientAddress, forKey: EdgeIdentity.clientAddressKey)
        metadata.addString(try await identity.token(), forKey: EdgeIdentity.tokenKey)
        // The trace context and request id are added by the clients' TracePropagationInterceptor,
        // from the request's span (EdgeService.handle).
        // Only the control plane verifies API keys: elsewhere the key travels as the access
        // token it stands for.
        if let apiKeys, route.peer != .control, let authorization = metadata.firstString(forKey: "authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer", APIKeyExchange.isAPIKey(parts[1]) {
                let token: String
                do {
                    token = try await apiKeys.token(for: String(parts[1]), metadata: metadata)
                } catch let error as RPCError {
                    throw EdgeError(error, detailsJSON: nil)
                }
                metadata.replaceOrAddString("Bearer \(token)", forKey: "authorization")
            }
        }
        return metadata
    }

    /// Who an event stream counts against: the tenant of a verified token; an API key by its
    /// public id; else the client's address.
    func streamOwner(_ request: EdgeRequest) async -> String {
        let credential =
            request.headers.first(name: "authorization").flatMap { header -> String? in
                let parts = header.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
                return String(parts[1])
            } ?? Self.cookie(Self.accessCookie, in: request.headers)
        guard let credential else { return "address:\(request.clientAddress)" }
        if credential.hasPrefix("apk_") {
            return "key:" + credential.split(separator: "_").prefix(2).joined(separator: "_").prefix(64)
        }
        if let context = try? await verifier.verify(credential) { return "tenant:\(context.tenantID)" }
        return "address:\(request.clientAddress)"
    }

    /// The CSRF token of a session whose access token is `access`.
    func csrfToken(for access: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(access.utf8), using: csrfKey)
        return Data(mac).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }

    /// Whether a method changes state (and so needs the CSRF token with cookies).
    static func isUnsafe(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS: false
        default: true
        }
    }

    /// The value of cookie `name` in the request's `Cookie` headers.
    static func cookie(_ name: String, in headers: HTTPHeaders) -> String? {
        for header in headers[canonicalForm: "cookie"] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingSpaces() == name else { continue }
                let value = String(parts[1].trimmingSpaces())
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }
}

/// Compares two byte strings in time that depends only on their lengths.
func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
