import Dispatch
import Foundation
import Glibc
public import RPCCore
public import RPCHTTP2
import StandardServices
import Synchronization

/// The interop server's assembly: the test service, with health and reflection.
public enum InteropServer {
    /// A server on 127.0.0.1:`port` (0 picks a free port).
    /// `configure` may change the server's limits.
    public static func make(
        port: Int, threads: Int? = nil, interceptors: [any ServerInterceptor] = [],
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) -> GRPCServer {
        let (services, _) = StandardServices.adding(to: [TestServiceImplementation()])
        var configuration = ServerConfiguration(host: "127.0.0.1", port: port, threads: threads)
        configure(&configuration)
        return GRPCServer(configuration: configuration, services: services, interceptors: interceptors)
    }

    /// Returns when the process gets SIGINT or SIGTERM.
    public static func waitForTermination() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let queue = DispatchQueue(label: "signals")
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once(continuation)
            let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0, queue: queue) }
            for source in sources {
                source.setEventHandler { once.fire() }
                source.resume()
            }
            once.keep(sources)
        }
    }
}

/// Resumes a continuation exactly once, and keeps the signal sources alive until then.
private final class Once: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceSignal] = []
    private let lock = NSLock()

    init(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation = continuation
    }

    func keep(_ sources: [any DispatchSourceSignal]) {
        lock.withLock { self.sources = sources }
    }

    func fire() {
        let continuation = lock.withLock {
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume()
    }
}
