/// What kind of network an address belongs to, so a tenant-supplied URL cannot reach the
/// platform's own network, the host itself or a cloud metadata service.
public enum IPAddressClassification: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A globally routable unicast address: the only kind a tenant's URL may reach.
    case global
    /// The host itself: 127.0.0.0/8, ::1.
    case loopback
    /// Private networks: 10/8, 172.16/12, 192.168/16, and deprecated IPv6 site-local fec0::/10.
    case `private`
    /// Carrier-grade NAT space, 100.64/10.
    case sharedAddressSpace = "shared address space"
    /// Link-local: 169.254/16 (cloud metadata lives at 169.254.169.254), fe80::/10.
    case linkLocal = "link-local"
    /// IPv6 unique local addresses, fc00::/7.
    case uniqueLocal = "unique local"
    /// The unspecified address and "this network": 0.0.0.0/8, ::.
    case unspecified
    /// Multicast: 224/4, ff00::/8.
    case multicast
    /// The limited broadcast address 255.255.255.255.
    case broadcast
    /// Reserved, documentation, benchmarking and unallocated ranges: never a real server.
    case reserved

    /// Whether an outbound call may reach such an address without an allow-list entry.
    public var isPubliclyRoutable: Bool { self == .global }

    /// The kind in words, e.g. `link-local`.
    public var description: String { rawValue }
}

extension IPAddress {
    /// The kind of network the address belongs to. IPv6 forms that carry an IPv4 address
    /// (mapped, compatible, NAT64, 6to4) are classified by that IPv4 address.
    public var classification: IPAddressClassification {
        isIPv4 ? Self.classifyIPv4(bytes) : Self.classifyIPv6(bytes)
    }

    private static func classifyIPv4(_ b: [UInt8]) -> IPAddressClassification {
        switch (b[0], b[1], b[2]) {
        case (0, _, _): .unspecified
        case (10, _, _): .private
        case (100, 64...127, _): .sharedAddressSpace
        case (127, _, _): .loopback
        case (169, 254, _): .linkLocal
        case (172, 16...31, _): .private
        case (192, 0, 0), (192, 0, 2), (192, 88, 99): .reserved
        case (192, 168, _): .private
        case (198, 18...19, _), (198, 51, 100), (203, 0, 113): .reserved
        case (224...239, _, _): .multicast
        case (255, 255, 255) where b[3] == 255: .broadcast
        case (240...255, _, _): .reserved
        default: .global
        }
    }

    private static func classifyIPv6(_ b: [UInt8]) -> IPAddressClassification {
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }
        if b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return .loopback }
        if let v4 = IPAddress(bytes: b)?.embeddedIPv4 { return v4.classification }
        switch (b[0], b[1]) {
        case (0xFF, _): return .multicast
        case (0xFE, 0x80...0xBF): return .linkLocal
        case (0xFE, 0xC0...0xFF): return .private
        case (0xFC...0xFD, _): return .uniqueLocal
        default: break
        }
        // Only 2000::/3 is allocated for global unicast; inside it, documentation (2001:db8::/32),
        // Teredo (2001::/32, which tunnels to an obfuscated IPv4 peer) and ORCHID (2001:10::/28,
        // 2001:20::/28) never name a server a tenant should reach.
        guard b[0] & 0xE0 == 0x20 else { return .reserved }
        if b[0] == 0x20, b[1] == 0x01 {
            if b[2] == 0x0D, b[3] == 0xB8 { return .reserved }
            if b[2] == 0x00, b[3] == 0x00 { return .reserved }
            if b[2] == 0x00, b[3] & 0xE0 == 0x00, b[3] >= 0x10, b[3] < 0x30 { return .reserved }
        }
        return .global
    }
}
