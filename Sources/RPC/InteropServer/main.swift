// interop-server: grpc.testing.TestService (plus health and reflection) on 127.0.0.1, for
// any gRPC implementation's interop client. Usage: interop-server --port N [--threads N]
// (event-loop threads; one per core by default)
import Glibc
import InteropTesting
import RPCHTTP2

var port = 50051
var threads: Int?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--port":
        guard let value = arguments.popFirst().flatMap(Int.init) else {
            print("interop-server: --port needs a number")
            exit(2)
        }
        port = value
    case let flag where flag.hasPrefix("--port="):
        guard let value = Int(flag.dropFirst("--port=".count)) else {
            print("interop-server: --port needs a number")
            exit(2)
        }
        port = value
    case "--threads":
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
            print("interop-server: --threads needs a positive number")
            exit(2)
        }
        threads = value
    default:
        print("usage: interop-server --port N [--threads N]")
        exit(2)
    }
}

let server = InteropServer.make(port: port, threads: threads)
try await server.start()
print("interop-server: listening on 127.0.0.1:\(server.port ?? port)")
fflush(nil)
await InteropServer.waitForTermination()
await server.shutdown(gracePeriod: .seconds(5))
