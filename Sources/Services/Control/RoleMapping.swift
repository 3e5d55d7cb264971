import RPCModels
import RuntimeSecurity

/// Converts between the contract's roles and the runtime's, and their stored form.
enum RoleMapping {
    static func role(_ proto: Agentplane_V1_Role) -> Role? {
        switch proto {
        case .owner: .owner
        case .admin: .admin
        case .builder: .builder
        case .member: .member
        case .service: .service
        default: nil
        }
    }

    static func proto(_ role: Role) -> Agentplane_V1_Role {
        switch role {
        case .owner: .owner
        case .admin: .admin
        case .builder: .builder
        case .member: .member
        case .service: .service
        }
    }

    /// `owner,member` → roles, in the human order.
    static func decode(_ stored: String) -> [Role] {
        let roles = Set(stored.split(separator: ",").compactMap { Role(rawValue: String($0)) })
        return Role.allCases.filter { roles.contains($0) }
    }

    static func encode(_ roles: [Role]) -> String {
        let set = Set(roles)
        return Role.allCases.filter { set.contains($0) }.map(\.rawValue).joined(separator: ",")
    }

    /// Human roles from a request: INVALID_ARGUMENT for none, an unknown one or ROLE_SERVICE.
    static func requestedRoles(_ roles: [Agentplane_V1_Role], field: String = "roles") throws -> [Role] {
        if roles.isEmpty { throw RPCErrors.invalid(field, "EMPTY", "name at least one role") }
        var result: [Role] = []
        for proto in roles {
            guard let role = role(proto), role.isHuman else {
                throw RPCErrors.invalid(field, "INVALID_ROLE", "roles must be owner, admin, builder or member")
            }
            result.append(role)
        }
        return decode(encode(result))
    }
}
