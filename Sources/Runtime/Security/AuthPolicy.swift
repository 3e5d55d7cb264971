public import RPCCore

/// Which methods of a server need credentials, and which role each needs.
///
/// Method patterns are full paths (`/agentplane.v1.AgentService/CreateAgent`) or, ending in
/// `/`, every method of a service (`/grpc.health.v1.Health/`). An exact path wins over its
/// service's pattern.
///
/// Service tokens (role `service`) are outside the human role order ([Roles]): they are
/// accepted only by methods listed in `serviceMethods`, by methods whose minimum role is
/// `service`, or everywhere when `acceptServiceEverywhere` is set. Set that for the services
/// that other services call on a tenant's behalf (LLM gateway, KB search, ticketing,
/// notification); the control plane lists the few methods the execution service calls back.
public struct AuthPolicy: Sendable {
    /// What answers without credentials: health, reflection, and Login / Refresh.
    public static let standardPublicMethods: Set<String> = [
        "/grpc.health.v1.Health/",
        "/grpc.reflection.v1.ServerReflection/",
        "/grpc.reflection.v1alpha.ServerReflection/",
        "/agentplane.v1.AuthService/Login",
        "/agentplane.v1.AuthService/Refresh",
    ]

    /// Methods that need no credentials.
    public var publicMethods: Set<String>
    /// Minimum roles of methods (or services) that need more than `defaultMinimumRole`.
    public var minimumRoles: [String: Role]
    /// The role a method not in `minimumRoles` needs.
    public var defaultMinimumRole: Role
    /// Methods (or services) that also accept service tokens.
    public var serviceMethods: Set<String>
    /// Whether service tokens are accepted by every method, as for internal services.
    public var acceptServiceEverywhere: Bool

    /// A policy; by default health, reflection, Login and Refresh are public and every other
    /// method needs a member (or higher), and no method takes service tokens.
    public init(
        publicMethods: Set<String> = AuthPolicy.standardPublicMethods, minimumRoles: [String: Role] = [:],
        defaultMinimumRole: Role = .member, serviceMethods: Set<String> = [], acceptServiceEverywhere: Bool = false
    ) {
        self.publicMethods = publicMethods
        self.minimumRoles = minimumRoles
        self.defaultMinimumRole = defaultMinimumRole
        self.serviceMethods = serviceMethods
        self.acceptServiceEverywhere = acceptServiceEverywhere
    }

    /// Whether `path` answers without credentials.
    public func isPublic(_ path: String) -> Bool {
        publicMethods.contains(path) || publicMethods.contains(Self.servicePattern(of: path))
    }

    /// The minimum role of `path`.
    public func minimumRole(for path: String) -> Role {
        minimumRoles[path] ?? minimumRoles[Self.servicePattern(of: path)] ?? defaultMinimumRole
    }

    /// Whether a caller may call `path`.
    public func allows(_ caller: AuthContext, path: String) -> Bool {
        let minimum = minimumRole(for: path)
        if caller.role == .service {
            return minimum == .service || acceptServiceEverywhere || serviceMethods.contains(path)
                || serviceMethods.contains(Self.servicePattern(of: path))
        }
        return caller.role.satisfies(minimum)
    }

    /// Throws PERMISSION_DENIED, saying what is needed, unless the caller may call `path`.
    public func authorize(_ caller: AuthContext, path: String) throws(RPCError) {
        guard allows(caller, path: path) else {
            let message =
                caller.role == .service
                ? "service tokens are not accepted by \(path)" : Self.deniedMessage(needed: minimumRole(for: path))
            throw RPCError(code: .permissionDenied, message: message)
        }
    }

    /// What a caller is told when its role is too low.
    static func deniedMessage(needed: Role) -> String {
        switch needed {
        case .service: "this method is only for service-to-service calls"
        case .owner: "this method requires the owner role"
        default: "this method requires role \(needed) or above"
        }
    }

    /// `/pkg.Service/` for `/pkg.Service/Method`.
    private static func servicePattern(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[...slash])
    }
}
