// interop-server: grpc.testing.TestService (plus health and reflection) on 127.0.0.1, for
// any gRPC implementation's interop client. Usage:
//   interop-server --port N [--threads N] [--jwt-secret-file PATH] [LIMIT N ...]
//   interop-server --jwt-secret-file PATH --issue-token
// --threads: event-loop threads (one per core by default). LIMIT sets one of the server's
// limits (defaults as the services'): --max-connections, --idle-timeout (seconds),
// --max-concurrent-streams, --max-connection-buffer-bytes. --jwt-secret-file: every TestService
// call needs `authorization: Bearer <token>` signed with that secret (the services' JWT
// interceptor; health and reflection stay public), for the authenticated benchmark and the
// hostile-peer suite. --issue-token prints a one-hour member token for that secret and exits.
import FoundationEssentials
import Glibc
import InteropTesting
import RPCCore
import RPCHTTP2
import RuntimeSecurity

var port = 50051
var threads: Int?
var secretFile: String?
var issueToken = false
var limits: [String: Int] = [:]
let limitFlags = ["--max-connections", "--idle-timeout", "--max-concurrent-streams", "--max-connection-buffer-bytes"]
var arguments = CommandLine.arguments.dropFirst()

func fail(_ message: String) -> Never {
    print("interop-server: \(message)")
    exit(2)
}

while let argument = arguments.popFirst() {
    switch argument {
    case "--port":
        guard let value = arguments.popFirst().flatMap(Int.init) else { fail("--port needs a number") }
        port = value
    case let flag where flag.hasPrefix("--port="):
        guard let value = Int(flag.dropFirst("--port=".count)) else { fail("--port needs a number") }
        port = value
    case "--threads":
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
            fail("--threads needs a positive number")
        }
        threads = value
    case "--jwt-secret-file":
        guard let value = arguments.popFirst() else { fail("--jwt-secret-file needs a path") }
        secretFile = value
    case "--issue-token":
        issueToken = true
    case let flag where limitFlags.contains(flag):
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
            fail("\(flag) needs a positive number")
        }
        limits[flag] = value
    default:
        print("usage: interop-server --port N [--threads N] [--jwt-secret-file PATH] [LIMIT N ...]")
        exit(2)
    }
}

var interceptors: [any ServerInterceptor] = []
if let secretFile {
    guard let data = FileManager.default.contents(atPath: secretFile) else { fail("cannot read \(secretFile)") }
    let secret = Array(data.split(separator: UInt8(ascii: "\n")).first ?? [])
    do {
        if issueToken {
            let token = try await TokenIssuer(secret: secret).issueAccessToken(
                tenantID: "interop", userID: "interop-client", role: .member, ttl: .seconds(3600))
            print(token.token)
            exit(0)
        }
        interceptors = [
            AuthInterceptor(verifier: try TokenVerifier(secret: secret), revocations: InMemoryRevocationList())
        ]
    } catch {
        fail("\(error)")
    }
} else if issueToken {
    fail("--issue-token needs --jwt-secret-file")
}

let server = InteropServer.make(port: port, threads: threads, interceptors: interceptors) { configuration in
    if let value = limits["--max-connections"] { configuration.maximumConnections = value }
    if let value = limits["--idle-timeout"] { configuration.idleTimeout = .seconds(value) }
    if let value = limits["--max-concurrent-streams"] {
        configuration.maximumConcurrentStreams = UInt32(clamping: value)
    }
    if let value = limits["--max-connection-buffer-bytes"] { configuration.maximumBufferedRequestBytes = value }
}
try await server.start()
print("interop-server: listening on 127.0.0.1:\(server.port ?? port)")
fflush(nil)
await InteropServer.waitForTermination()
await server.shutdown(gracePeriod: .seconds(5))
