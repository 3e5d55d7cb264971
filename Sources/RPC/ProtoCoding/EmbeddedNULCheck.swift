package import CProtobufC

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds a string field whose payload holds a 0 byte.
///
/// protobuf-c hands strings over as NUL-terminated `char *`, so `"abc\0def"` would arrive as
/// `"abc"`: data silently cut, an id with junk after a NUL matching the real record. Decoding
/// refuses such input instead. The common case costs one `memchr` over the buffer; only when a
/// 0 byte exists (an empty nested message, a zero in a double, bytes, ...) are the bytes walked
/// along the protobuf-c descriptors, nested messages and map entries included, to see whether
/// the 0 is inside a string's payload.
package enum EmbeddedNULCheck {
    /// The path of the first string field holding a NUL, e.g.
    /// `agentplane.v1.CreateAgentRequest.flow.name`, or nil when there is none.
    ///
    /// Meant for bytes protobuf-c has accepted: a malformed part ends the walk early.
    package static func fieldPath(
        _ bytes: UnsafeRawBufferPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) -> String? {
        guard let base = bytes.baseAddress, bytes.count > 0, memchr(base, 0, bytes.count) != nil else { return nil }
        var path: [String] = []
        guard scan(base.assumingMemoryBound(to: UInt8.self), bytes.count, descriptor, depth: 1, path: &path) else {
            return nil
        }
        return ([String(cString: descriptor.pointee.name)] + path.reversed()).joined(separator: ".")
    }

    /// True when a string field in these bytes (or in a message nested in them) holds a 0 byte;
    /// `path` then holds the field names, innermost first.
    private static func scan(
        _ data: UnsafePointer<UInt8>, _ count: Int, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        depth: Int, path: inout [String]
    ) -> Bool {
        // Deeper nesting is refused by the depth check before protobuf-c sees it.
        if depth > ProtoCodec.maximumDepth { return false }
        var offset = 0
        while offset < count {
            guard let tag = WireFormatReading.varint(data, count, &offset) else { return false }
            switch tag & 7 {
            case 0:
                guard WireFormatReading.varint(data, count, &offset) != nil else { return false }
            case 1:
                offset += 8
            case 5:
                offset += 4
            case 2:
                guard let length = WireFormatReading.varint(data, count, &offset), length <= UInt64(count - offset)
                else {
                    return false
                }
                let start = offset
                offset += Int(length)
                guard length > 0, let field = WireFormatReading.field(UInt32(truncatingIfNeeded: tag >> 3), descriptor)
                else { continue }
                switch field.pointee.type {
                case PROTOBUF_C_TYPE_STRING:
                    if memchr(data + start, 0, Int(length)) != nil {
                        path.append(String(cString: field.pointee.name))
                        return true
                    }
                case PROTOBUF_C_TYPE_MESSAGE:
                    let sub = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    if scan(data + start, Int(length), sub, depth: depth + 1, path: &path) {
                        path.append(String(cString: field.pointee.name))
                        return true
                    }
                default:
                    continue
                }
            default:
                return false
            }
        }
        return false
    }
}
