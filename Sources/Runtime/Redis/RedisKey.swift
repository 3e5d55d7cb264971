/// Builds Redis keys. Every service names its keys through here, so tenants stay apart.
public enum RedisKey {
    /// The key `t:{<tenant>}:<part>:<part>…` for data of `tenant`.
    ///
    /// The braces are a Redis Cluster hash tag: all of a tenant's keys live in one slot, so
    /// scripts and transactions over several of them keep working on a cluster. Every byte of
    /// the tenant outside `A-Z a-z 0-9 - . _ ~` is percent-encoded (`:` → `%3A`, `{` → `%7B`,
    /// `}` → `%7D`, `%` → `%25`, and glob characters such as `*`), so one tenant's name can
    /// never produce another tenant's prefix nor a `SCAN MATCH` pattern that reaches into
    /// another tenant. Parts are joined with `:` as given: they are the service's own naming.
    /// Throws `invalidArgument` for an empty tenant.
    public static func tenant(_ tenant: String, _ parts: String...) throws -> String {
        try ([prefix(tenant)] + parts).joined(separator: ":")
    }

    /// The `SCAN MATCH` pattern that matches every key of `tenant` and nothing else.
    public static func tenantPattern(_ tenant: String) throws -> String {
        try prefix(tenant) + ":*"
    }

    private static func prefix(_ tenant: String) throws -> String {
        guard !tenant.isEmpty else {
            throw RedisError(code: .invalidArgument, message: "a tenant key needs a non-empty tenant")
        }
        return "t:{\(escaped(tenant))}"
    }

    private static func escaped(_ tenant: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in tenant.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
