/// What a caller may do, per the API's [Roles] convention.
///
/// People hold one of owner > admin > builder > member; `service` is held only by service tokens
/// and stands outside that order, so it never satisfies a human minimum and vice versa.
public enum Role: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Owns the tenant: everything an admin can do, plus billing and deleting the tenant.
    case owner
    /// Manages users, roles, tools and settings of the tenant.
    case admin
    /// Builds and publishes agents and tools.
    case builder
    /// Chats with agents and reads what builders published.
    case member
    /// A service calling another on a tenant's behalf; held only by service tokens.
    case service

    /// The role for a name as it appears in tokens and identity providers: `admin`, `ADMIN` or
    /// `ROLE_ADMIN`. Nil for a name that is not a role.
    public init?(name: String) {
        var name = name.lowercased()
        if name.hasPrefix("role_") { name.removeFirst("role_".count) }
        self.init(rawValue: name)
    }

    /// Whether a caller with this role may call something that needs at least `minimum`.
    ///
    /// Human roles follow their order; `service` satisfies only `.service`, and no human role
    /// satisfies `.service`.
    public func satisfies(_ minimum: Role) -> Bool {
        switch (humanRank, minimum.humanRank) {
        case (let mine?, let needed?): mine >= needed
        case (nil, nil): true
        default: false
        }
    }

    /// Whether this is one of the ordered human roles.
    public var isHuman: Bool { humanRank != nil }

    /// The highest of `roles` in the human order, ignoring `service`; nil when there is none.
    public static func highestHuman(of roles: some Sequence<Role>) -> Role? {
        roles.filter(\.isHuman).max { ($0.humanRank ?? 0) < ($1.humanRank ?? 0) }
    }

    /// The role's name, e.g. `admin`.
    public var description: String { rawValue }

    /// Position in the human order (higher is more); nil for `service`.
    private var humanRank: Int? {
        switch self {
        case .owner: 4
        case .admin: 3
        case .builder: 2
        case .member: 1
        case .service: nil
        }
    }
}
