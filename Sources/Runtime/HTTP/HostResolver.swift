import Dispatch
import Glibc
import Synchronization

/// Resolves host names with `getaddrinfo`, which blocks, on a dispatch queue — never on an
/// event loop or a Swift concurrency thread.
enum HostResolver {
    private static let queue = DispatchQueue(label: "agentplane.outbound.resolver", attributes: .concurrent)

    /// Why a name did not resolve.
    struct Failure: Error {
        var reason: String
    }

    /// Every address the name resolves to. Cancelling the calling task returns at once with
    /// `CancellationError`; the lookup itself finishes in the background.
    static func resolve(_ host: String) async throws -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        let pending = Mutex<CheckedContinuation<[IPAddress], any Error>?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                pending.withLock { $0 = continuation }
                if Task.isCancelled {
                    pending.withLock { $0.take() }?.resume(throwing: CancellationError())
                    return
                }
                queue.async {
                    let result = Result { try lookUp(host) }
                    pending.withLock { $0.take() }?.resume(with: result)
                }
            }
        } onCancel: {
            pending.withLock { $0.take() }?.resume(throwing: CancellationError())
        }
    }

    /// The blocking lookup.
    private static func lookUp(_ host: String) throws(Failure) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw Failure(reason: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    let v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    addresses.append(IPAddress(bytes: withUnsafeBytes(of: v4) { Array($0) })!)
                case AF_INET6:
                    let v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    addresses.append(IPAddress(bytes: withUnsafeBytes(of: v6) { Array($0) })!)
                default:
                    break
                }
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw Failure(reason: "no addresses") }
        return addresses
    }
}
