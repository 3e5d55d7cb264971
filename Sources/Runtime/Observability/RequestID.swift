/// The id that ties together everything done for one client request, across services: taken
/// from the `x-request-id` metadata, or made by the first service to see the request.
public enum RequestID {
    /// The metadata key it travels in.
    public static let metadataKey = "x-request-id"

    /// The request id of the call the current task serves, if any.
    @TaskLocal public static var current: String?

    /// A new random id, formatted like a UUID (version 4).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF | 0x4000
        let low = (generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        // 8-4-4-4-12 hex digits, written straight into the string's storage.
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var digits = 0
            var index = 0
            for word in [high, low] {
                for shift in stride(from: 60, through: 0, by: -4) {
                    if digits == 8 || digits == 12 || digits == 16 || digits == 20 {
                        buffer[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    buffer[index] = TraceContext.hexDigits[Int((word >> UInt64(shift)) & 0xF)]
                    index += 1
                    digits += 1
                }
            }
            return index
        }
    }

    /// Whether a received id is safe to adopt and log: 1 to 128 visible ASCII characters.
    public static func isAcceptable(_ id: String) -> Bool {
        let bytes = id.utf8
        return (1...128).contains(bytes.count) && bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
