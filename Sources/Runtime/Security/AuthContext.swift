public import FoundationEssentials
public import RPCCore

/// Who is calling: the verified identity behind a request's credentials.
///
/// The `AuthInterceptor` sets `AuthContext.current` for the duration of each authenticated
/// call; handlers read the tenant from here, never from the request ([Tenancy]).
public struct AuthContext: Sendable, Equatable, CustomStringConvertible {
    /// Which kind of credential the caller presented.
    public enum Kind: String, Sendable, Hashable {
        /// A user's access token (ours, or one from a trusted external OIDC issuer).
        case user
        /// An API key, verified by the control plane.
        case apiKey
        /// A short-lived service token minted by a service calling on a tenant's behalf.
        case service
    }

    /// The kind of credential.
    public var kind: Kind
    /// The tenant every call is scoped to.
    public var tenantID: String
    /// The token's subject: the user (or API key owner); for a service token, `service:<name>`.
    public var userID: String
    /// The caller's effective role (the highest one it holds; `service` for service tokens).
    public var role: Role
    /// The token's id (`jti`), used for revocation; nil for credentials without one.
    public var tokenID: String?
    /// When the credential stops being valid, if it expires.
    public var expiresAt: Date?
    /// For a service token: the user on whose behalf the service acts, if any.
    public var actingUserID: String?
    /// For a service token: the name of the service that minted it.
    public var serviceName: String?
    /// Who issued the token (`agentplane`, or an external issuer's URL); nil for API keys.
    public var issuer: String?
    /// The raw credential, kept so that a service token can be forwarded unchanged.
    var bearerToken: String?

    /// A context; API key verifiers and tests build one, the interceptor fills in the rest.
    public init(
        kind: Kind, tenantID: String, userID: String, role: Role, tokenID: String? = nil,
        expiresAt: Date? = nil, actingUserID: String? = nil, serviceName: String? = nil, issuer: String? = nil
    ) {
        self.kind = kind
        self.tenantID = tenantID
        self.userID = userID
        self.role = role
        self.tokenID = tokenID
        self.expiresAt = expiresAt
        self.actingUserID = actingUserID
        self.serviceName = serviceName
        self.issuer = issuer
    }

    /// The person the call is for: the acting user of a service token, else the subject.
    public var effectiveUserID: String { actingUserID ?? userID }

    /// Kind, tenant, subject and role; never the credential itself.
    public var description: String {
        var text = "\(kind.rawValue) \(userID) in tenant \(tenantID) as \(role)"
        if let serviceName { text += " via \(serviceName)" }
        if let actingUserID { text += " for \(actingUserID)" }
        return text
    }

    /// The identity of the call the current task serves, set by `AuthInterceptor`.
    @TaskLocal public static var current: AuthContext?

    /// The current caller, if it holds at least `minimum`.
    ///
    /// - Throws: UNAUTHENTICATED when no caller is known; PERMISSION_DENIED, naming the needed
    ///   role, when the caller's role is too low (or a service token where a person is needed).
    @discardableResult
    public static func require(minimum: Role) throws(RPCError) -> AuthContext {
        guard let context = current else {
            throw RPCError(code: .unauthenticated, message: "this call requires credentials")
        }
        guard context.role.satisfies(minimum) else {
            throw RPCError(code: .permissionDenied, message: AuthPolicy.deniedMessage(needed: minimum))
        }
        return context
    }

    /// The current caller, if it is a service token.
    ///
    /// - Throws: UNAUTHENTICATED when no caller is known; PERMISSION_DENIED for anyone else.
    @discardableResult
    public static func requireService() throws(RPCError) -> AuthContext {
        try require(minimum: .service)
    }

    /// A copy carrying the raw credential it was verified from.
    func withBearerToken(_ token: String) -> AuthContext {
        var copy = self
        copy.bearerToken = token
        return copy
    }
}
