package import CProtobufC
package import FoundationEssentials

/// The protobuf-c message descriptor of a generated type, as a sendable handle.
package struct ProtoCDescriptor: @unchecked Sendable {
    package let pointer: UnsafePointer<ProtobufCMessageDescriptor>

    /// Takes the descriptor from a message initialised by its protoc-c `__init` function.
    package init(initialized base: ProtobufCMessage) {
        pointer = base.descriptor
    }
}

/// The bridge between generated Swift types and protobuf-c: packing, unpacking and the
/// conversions of strings and bytes. Generated code calls these; nothing else should.
package enum ProtoCodec {
    /// Deepest nesting of messages accepted when decoding, as in Google's implementations.
    package static let maximumDepth = 100

    /// Packs a protobuf-c message (the pointer is to its `ProtobufCMessage` base) that was
    /// built in an arena whose `encodedSizeBound` is `sizeBound`.
    ///
    /// Small messages are packed in one pass into a buffer of the bound's size; large ones
    /// measure first (a second pass), so the buffer is not much larger than the bytes.
    package static func pack(_ message: UnsafeRawPointer, sizeBound: Int) -> [UInt8] {
        let base = message.assumingMemoryBound(to: ProtobufCMessage.self)
        if sizeBound <= 32 * 1024 {
            return [UInt8](unsafeUninitializedCapacity: sizeBound) { buffer, count in
                count = protobuf_c_message_pack(base, buffer.baseAddress!)
                precondition(count <= sizeBound, "packed size \(count) exceeds the arena's bound \(sizeBound)")
            }
        }
        let size = protobuf_c_message_get_packed_size(base)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = size == 0 ? 0 : protobuf_c_message_pack(base, buffer.baseAddress!)
        }
    }

    /// Refuses input whose messages nest deeper than `maximumDepth`, before protobuf-c (which
    /// recurses without a limit) sees it. Only types that can nest without bound need this.
    package static func checkDepth(
        _ descriptor: ProtoCDescriptor, _ bytes: UnsafeRawBufferPointer, name: String
    ) throws(ProtoDecodingError) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var scanner = DepthScanner(limit: maximumDepth)
        if !scanner.scan(base, bytes.count, descriptor.pointer, depth: 1) {
            throw ProtoDecodingError(
                code: .tooDeep, messageName: name, message: "messages nest deeper than \(maximumDepth) levels")
        }
    }

    /// Unpacks bytes into a protobuf-c message whose memory all comes from `arena`: it lives
    /// as long as the arena and needs no freeing. A string field holding a NUL byte (which
    /// protobuf-c's C strings would cut) is refused with `embeddedNUL`.
    package static func unpack(
        _ descriptor: ProtoCDescriptor, _ bytes: UnsafeRawBufferPointer, name: String, arena: inout ProtoArena
    ) throws(ProtoDecodingError) -> UnsafeMutableRawPointer {
        let message = withUnsafeMutablePointer(to: &arena) { arenaPointer in
            var allocator = ProtobufCAllocator(
                alloc: arenaAlloc, free: arenaFree, allocator_data: UnsafeMutableRawPointer(arenaPointer))
            var empty: UInt8 = 0
            return withUnsafeMutablePointer(to: &empty) { emptyPointer in
                let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyPointer)
                return protobuf_c_message_unpack(descriptor.pointer, &allocator, bytes.count, data)
            }
        }
        guard let message else {
            throw ProtoDecodingError(
                code: .malformed, messageName: name, message: "\(bytes.count) bytes are not a valid encoding")
        }
        if let path = EmbeddedNULCheck.fieldPath(bytes, descriptor.pointer) {
            throw ProtoDecodingError(code: .embeddedNUL, messageName: name, message: "\(path) contains a NUL byte")
        }
        return UnsafeMutableRawPointer(message)
    }

    /// A Swift string from a protobuf-c string field, which must be valid UTF-8.
    package static func string(
        _ pointer: UnsafePointer<CChar>?, field: String, in messageName: String
    ) throws(ProtoDecodingError) -> String {
        guard let pointer, pointer.pointee != 0 else { return "" }
        guard let string = String(validatingCString: pointer) else {
            throw ProtoDecodingError(
                code: .invalidUTF8, messageName: messageName,
                message: "string field '\(field)' is not valid UTF-8")
        }
        return string
    }

    /// `Data` from a protobuf-c bytes field.
    package static func data(_ binary: ProtobufCBinaryData) -> Data {
        guard binary.len > 0, let bytes = binary.data else { return Data() }
        return Data(bytes: bytes, count: binary.len)
    }

    /// A protobuf-c bytes field holding a copy of `data` in the arena.
    package static func binary(_ data: Data, _ arena: inout ProtoArena) -> ProtobufCBinaryData {
        guard !data.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        return data.withUnsafeBytes { raw in
            ProtobufCBinaryData(len: raw.count, data: arena.bytes(raw))
        }
    }
}

/// protobuf-c's allocator callbacks over a `ProtoArena`: allocation bumps, freeing waits for
/// the arena to go away.
private func arenaAlloc(_ data: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    data!.assumingMemoryBound(to: ProtoArena.self).pointee.allocate(byteCount: max(size, 1), alignment: 16)
}

private func arenaFree(_ data: UnsafeMutableRawPointer?, _ pointer: UnsafeMutableRawPointer?) {}

/// Walks the wire format along the message descriptors to measure how deep messages nest,
/// without decoding anything. Malformed input stops the walk early; protobuf-c rejects it.
private struct DepthScanner {
    let limit: Int

    /// False when nesting exceeds the limit.
    mutating func scan(
        _ data: UnsafePointer<UInt8>, _ count: Int,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, depth: Int
    ) -> Bool {
        if depth > limit { return false }
        var offset = 0
        while offset < count {
            guard let tag = WireFormatReading.varint(data, count, &offset) else { return true }
            let fieldNumber = UInt32(truncatingIfNeeded: tag >> 3)
            switch tag & 7 {
            case 0:
                guard WireFormatReading.varint(data, count, &offset) != nil else { return true }
            case 1:
                offset += 8
            case 5:
                offset += 4
            case 2:
                guard let length = WireFormatReading.varint(data, count, &offset), length <= UInt64(count - offset)
                else { return true }
                let end = offset + Int(length)
                if let sub = messageField(fieldNumber, descriptor),
                    !scan(data + offset, end - offset, sub, depth: depth + 1)
                {
                    return false
                }
                offset = end
            default:
                return true
            }
        }
        return true
    }

    private func messageField(
        _ number: UInt32, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) -> UnsafePointer<ProtobufCMessageDescriptor>? {
        guard let field = WireFormatReading.field(number, descriptor), field.pointee.type == PROTOBUF_C_TYPE_MESSAGE,
            let sub = field.pointee.descriptor
        else { return nil }
        return sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
    }
}
