import Foundation

/// Where Redis is: the parts of a `redis://[user:password@]host[:port][/db]` URL (or `rediss://`
/// for TLS). Its password is a `Secret`, so printing the endpoint never shows it.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    /// Whether the URL asked for TLS (`rediss://`).
    public var usesTLS: Bool
    /// The host name or address (IPv6 without brackets).
    public var host: String
    /// The TCP port; 6379 when the URL has none.
    public var port: Int
    /// The database number; 0 when the URL has none.
    public var database: Int
    /// The ACL user name, when the URL has one.
    public var username: String?
    /// The password, when the URL has one.
    public var password: Secret?

    /// An endpoint from its parts.
    public init(
        usesTLS: Bool = false, host: String, port: Int = 6379, database: Int = 0, username: String? = nil,
        password: Secret? = nil
    ) {
        self.usesTLS = usesTLS
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// Parses a URL; the error says what is wrong in words that can follow the key's name.
    public init(parsing text: String) throws(RedisURL.ParseError) {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("redis://") || lowered.hasPrefix("rediss://"),
            let components = URLComponents(string: text)
        else { throw ParseError(reason: "is not a redis:// URL") }
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ParseError(reason: "has no host") }
        guard host.contains(":") || ConfigValueFormats.isHostName(host) else {
            throw ParseError(reason: "has an invalid host")
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw ParseError(reason: "has a port outside 1-65535")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var database = 0
        if !path.isEmpty {
            guard path.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(path), number <= 1_000_000 else {
                throw ParseError(reason: "has a database that is not a number (redis://host:port/db)")
            }
            database = number
        }
        self.init(
            usesTLS: lowered.hasPrefix("rediss://"), host: host, port: components.port ?? 6379, database: database,
            username: components.user.flatMap { $0.isEmpty ? nil : $0 },
            password: components.password.map(Secret.init))
    }

    /// Why a text is not a Redis URL.
    public struct ParseError: Error, Sendable, Hashable {
        /// What is wrong, e.g. `is not a redis:// URL`.
        public var reason: String
    }

    /// The URL with the password, for a client library: do not log it.
    public var revealedURL: String { url(revealingPassword: true) }

    /// The URL with the password shown as `***`.
    public var description: String { url(revealingPassword: false) }

    private func url(revealingPassword: Bool) -> String {
        let user = (username ?? "").addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? ""
        let credentials =
            switch password {
            case nil: user.isEmpty ? "" : "\(user)@"
            case let password? where revealingPassword:
                "\(user):\(password.reveal().addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? "")@"
            case _?: "\(user):***@"
            }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(usesTLS ? "rediss" : "redis")://\(credentials)\(shownHost):\(port)/\(database)"
    }
}
