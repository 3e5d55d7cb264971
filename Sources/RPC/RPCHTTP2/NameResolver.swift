import Dispatch
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a target's host name into the addresses a client connects to. The client uses
/// `SystemNameResolver`; tests inject their own answers for names no DNS knows.
protocol NameResolving: Sendable {
    /// Every address of `host` for TCP on `port`, in the resolver's order, each once.
    func resolve(host: String, port: Int) async throws -> [SocketAddress]
}

/// A name that could not be resolved, with the resolver's reason.
struct NameResolutionError: Error, CustomStringConvertible {
    /// The name asked for.
    var host: String
    /// Why it failed, e.g. getaddrinfo's "Name or service not known".
    var reason: String

    var description: String { "cannot resolve \(host): \(reason)" }
}

/// The system's resolver: getaddrinfo, so /etc/hosts and DNS as nsswitch.conf says (Docker's
/// and Kubernetes' DNS included). getaddrinfo blocks, so it runs on a Dispatch queue, never on
/// an event loop.
struct SystemNameResolver: NameResolving {
    func resolve(host: String, port: Int) async throws -> [SocketAddress] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.lookUp(host: host, port: port) })
            }
        }
    }

    /// getaddrinfo for TCP over IPv4 and IPv6; the C list is copied into `SocketAddress`
    /// values and freed before returning.
    static func lookUp(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw NameResolutionError(host: host, reason: reason)
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let info = entry {
            entry = info.pointee.ai_next
            guard let raw = info.pointee.ai_addr else { continue }
            let address: SocketAddress
            switch info.pointee.ai_family {
            case AF_INET:
                address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            case AF_INET6:
                address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            default:
                continue
            }
            if !addresses.contains(address) { addresses.append(address) }
        }
        guard !addresses.isEmpty else { throw NameResolutionError(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }
}

extension Target {
    /// Whether the host is an IPv4 or IPv6 address (bracketed or not) rather than a name to resolve.
    var hostIsIPAddress: Bool {
        var host = Substring(host)
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return (try? SocketAddress(ipAddress: String(host), port: 0)) != nil
    }
}
