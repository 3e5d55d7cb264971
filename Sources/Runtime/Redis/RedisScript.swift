/// A Lua script run with `RedisPool.run`: atomically on the server, sent by its SHA-1.
public struct RedisScript: Hashable, Sendable {
    /// The Lua source.
    public let source: String

    /// A script from its Lua source.
    public init(source: String) {
        self.source = source
    }
}

extension RedisPool {
    /// Runs `script` with `EVALSHA`. The SHA-1 comes from `SCRIPT LOAD` the first time and is
    /// cached; when the server has forgotten the script (`SCRIPT FLUSH`, a restart), it is
    /// loaded again and run once more, which is safe because `NOSCRIPT` means it did not run.
    /// Keys and arguments are binary safe; an error the script raises is thrown as `server`.
    public func run(
        _ script: RedisScript, keys: [any RedisArgumentConvertible] = [],
        arguments: [any RedisArgumentConvertible] = [], timeout: Duration? = nil
    ) async throws -> RedisReply {
        func evaluate(_ sha: String) async throws -> RedisReply {
            try await send(["EVALSHA", sha, keys.count] + keys + arguments, timeout: timeout)
        }
        let cached = scriptHashes.withLock { $0[script.source] }
        do {
            let sha: String
            if let cached { sha = cached } else { sha = try await load(script) }
            return try await evaluate(sha)
        } catch let error as RedisError where error.serverErrorPrefix == "NOSCRIPT" {
            return try await evaluate(try await load(script))
        }
    }

    private func load(_ script: RedisScript) async throws -> String {
        let sha = try await send("SCRIPT", "LOAD", script.source).string()
        scriptHashes.withLock { $0[script.source] = sha }
        return sha
    }
}
