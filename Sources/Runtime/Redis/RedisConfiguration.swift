/// Where a Redis server is and how a pool uses it.
public struct RedisConfiguration: Hashable, Sendable {
    /// The server's host name or IP address.
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The ACL user for `AUTH`; nil authenticates as the default user.
    public var username: String?
    /// The password for `AUTH`; nil sends no `AUTH`.
    public var password: String?
    /// The logical database selected on connect.
    public var database: Int
    /// Connections open at most.
    public var maximumConnections: Int
    /// How long opening a connection may take.
    public var connectTimeout: Duration
    /// How long the server may stay silent on a command before `timeout` (a per-call override
    /// exists for blocking commands).
    public var commandTimeout: Duration
    /// How long a caller waits for a free connection before `poolTimeout`.
    public var waitTimeout: Duration

    /// A configuration from its parts: 8 connections, 2 s connect, 5 s commands, 5 s wait.
    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, maximumConnections: Int = 8, connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5), waitTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.maximumConnections = maximumConnections
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.waitTimeout = waitTimeout
    }

    /// A configuration from `redis://[[user]:password@]host[:port][/db]` (user and password
    /// percent-encoded, port 6379 and database 0 by default). Throws a `configuration`
    /// `RedisError` that names what is wrong.
    public init(
        url: String, maximumConnections: Int = 8, connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5), waitTimeout: Duration = .seconds(5)
    ) throws {
        let parsed = try RedisURL(url)
        guard maximumConnections > 0 else {
            throw RedisError(code: .configuration, message: "maximumConnections must be at least 1")
        }
        for (name, value) in [
            ("connectTimeout", connectTimeout), ("commandTimeout", commandTimeout), ("waitTimeout", waitTimeout),
        ] where value <= .zero {
            throw RedisError(code: .configuration, message: "\(name) must be positive")
        }
        self.init(
            host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password,
            database: parsed.database, maximumConnections: maximumConnections, connectTimeout: connectTimeout,
            commandTimeout: commandTimeout, waitTimeout: waitTimeout)
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The server's URL with the password masked, safe for logs.
    public var description: String {
        let credentials =
            switch (username, password) {
            case (nil, nil): ""
            case (let user?, nil): "\(user)@"
            case (let user, _?): "\(user ?? ""):***@"
            }
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}

/// The parts of a `redis://` URL.
private struct RedisURL {
    var host: String
    var port = 6379
    var username: String?
    var password: String?
    var database = 0

    init(_ url: String) throws {
        func invalid(_ problem: String) -> RedisError {
            RedisError(code: .configuration, message: "invalid Redis URL: \(problem)")
        }
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw invalid("expected redis://[[user]:password@]host[:port][/db]")
        }
        switch url[..<schemeEnd.lowerBound].lowercased() {
        case "redis": break
        case "rediss": throw invalid("TLS (rediss://) is not supported")
        case let scheme: throw invalid("unsupported scheme \"\(scheme)\", expected redis://")
        }
        var rest = url[schemeEnd.upperBound...]
        if rest.contains("?") || rest.contains("#") {
            throw invalid("query parameters and fragments are not supported")
        }
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw invalid("credentials need a colon: redis://:password@host or redis://user:password@host")
            }
            let user = try Self.percentDecoded(userInfo[..<colon], invalid)
            let password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], invalid)
            username = user.isEmpty ? nil : user
            self.password = password.isEmpty ? nil : password
            if username != nil && self.password == nil { throw invalid("a user name needs a password") }
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unclosed [ in the IPv6 host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw invalid("port \"\(portText)\" is not a number from 1 to 65535")
            }
            self.port = port
        }
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw invalid("database \"\(path)\" is not a non-negative number")
            }
            self.database = database
        }
    }

    private static func percentDecoded(
        _ text: Substring, _ invalid: (String) -> RedisError
    ) throws -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { throw invalid("bad percent-encoding in the credentials") }
            bytes.append(value)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw invalid("the credentials are not UTF-8 once decoded")
        }
        return decoded
    }
}
