import CProtobufC

/// The two pieces of the protobuf wire format that the depth check and the NUL check both
/// walk with: varints and field lookup by number.
enum WireFormatReading {
    /// The varint at `offset`, moving past it; nil when it is cut off or longer than 64 bits.
    static func varint(_ data: UnsafePointer<UInt8>, _ count: Int, _ offset: inout Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < count, shift < 64 {
            let byte = data[offset]
            offset += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// The descriptor of field `number` (protoc-c sorts the fields by number).
    static func field(
        _ number: UInt32, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) -> UnsafePointer<ProtobufCFieldDescriptor>? {
        guard let fields = descriptor.pointee.fields else { return nil }
        var low = 0
        var high = Int(descriptor.pointee.n_fields)
        while low < high {
            let middle = (low + high) / 2
            let id = fields[middle].id
            if id == number { return fields + middle }
            if id < number { low = middle + 1 } else { high = middle }
        }
        return nil
    }
}
