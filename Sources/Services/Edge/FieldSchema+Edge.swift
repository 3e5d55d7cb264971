import ProtoJSON

extension FieldSchema {
    /// The message type of a message-typed field.
    var messageTypeName: String? {
        if case .message(let name) = kind { return name }
        return nil
    }

    /// Whether the field is an integer written as a plain varint (int32/int64/uint32/uint64).
    var isInteger: Bool {
        switch kind {
        case .int32, .int64, .uint32, .uint64: true
        default: false
        }
    }
}
