/// How one value of a field's type moves between Swift and protobuf-c: its Swift type, its C
/// element type, and the code that converts it each way.
struct ValueCoding {
    enum Shape {
        /// Numbers, identical in Swift and C.
        case direct
        case bool, string, bytes
        case enumeration(cType: String)
        case message(cStruct: String, cInit: String)
    }

    let shape: Shape
    let swiftType: String

    init(kind: FieldKind, typeName: String, context: GeneratorContext) {
        switch kind {
        case .double: (shape, swiftType) = (.direct, "Double")
        case .float: (shape, swiftType) = (.direct, "Float")
        case .int32, .sint32, .sfixed32: (shape, swiftType) = (.direct, "Int32")
        case .int64, .sint64, .sfixed64: (shape, swiftType) = (.direct, "Int64")
        case .uint32, .fixed32: (shape, swiftType) = (.direct, "UInt32")
        case .uint64, .fixed64: (shape, swiftType) = (.direct, "UInt64")
        case .bool: (shape, swiftType) = (.bool, "Bool")
        case .string: (shape, swiftType) = (.string, "String")
        case .bytes: (shape, swiftType) = (.bytes, "Data")
        case .enumeration:
            let full = String(typeName.dropFirst())
            shape = .enumeration(cType: Naming.cStructName(fullName: full))
            swiftType = context.swiftName(typeName)
        case .message, .group:
            let full = String(typeName.dropFirst())
            shape = .message(
                cStruct: Naming.cStructName(fullName: full),
                cInit: Naming.cFunctionPrefix(fullName: full) + "__init")
            swiftType = context.swiftName(typeName)
        }
    }

    /// The C type of one element of a repeated field.
    var cElementType: String {
        switch shape {
        case .direct: swiftType
        case .bool: "protobuf_c_boolean"
        case .string: "UnsafeMutablePointer<CChar>?"
        case .bytes: "ProtobufCBinaryData"
        case .enumeration(let cType): cType
        case .message(let cStruct, _): "UnsafeMutablePointer<\(cStruct)>?"
        }
    }

    /// The Swift default value of a singular field.
    func defaultValue(context: GeneratorContext, typeName: String) -> String {
        switch shape {
        case .direct: "0"
        case .bool: "false"
        case .string: "\"\""
        case .bytes: "Data()"
        case .enumeration: context.enumDefault(typeName)
        case .message: "nil"
        }
    }

    var isMessage: Bool {
        if case .message = shape { return true }
        return false
    }

    /// The Swift value decoded from the C value `c`; for a message `c` is an optional pointer
    /// and an absent message decodes to its defaults (map values and repeated elements).
    func decoded(_ c: String, field: String) -> String {
        switch shape {
        case .direct: c
        case .bool: "\(c) != 0"
        case .string: "try ProtoCodec.string(\(c), field: \"\(field)\", in: Self.protoMessageName)"
        case .bytes: "ProtoCodec.data(\(c))"
        case .enumeration: "\(swiftType)(rawValue: Int32(truncatingIfNeeded: \(c).rawValue))"
        case .message:
            "try \(c).map { (pointer) throws(ProtoDecodingError) in try \(swiftType)(_protobufC: pointer) } ?? \(swiftType)()"
        }
    }

    /// Writes code that stores the Swift value `value` into the C lvalue `target`.
    /// `skipEmpty` leaves protoc-c's default in place for an empty string.
    func encode(_ value: String, into target: String, skipEmpty: Bool, _ w: inout CodeWriter) {
        switch shape {
        case .direct: w.line("\(target) = \(value)")
        case .bool: w.line("\(target) = \(value) ? 1 : 0")
        case .string:
            if skipEmpty {
                w.line("if !\(value).isEmpty { \(target) = arena.cString(\(value)) }")
            } else {
                w.line("\(target) = arena.cString(\(value))")
            }
        case .bytes: w.line("\(target) = ProtoCodec.binary(\(value), &arena)")
        case .enumeration: w.line("\(target) = .init(rawValue: .init(truncatingIfNeeded: \(value).rawValue))")
        case .message(let cStruct, let cInit):
            w.block("do") { w in
                w.line("let pointer = \(allocation(cStruct, count: "1"))")
                w.line("\(cInit)(pointer)")
                w.line("\(value)._fill(pointer, &arena)")
                w.line("\(target) = pointer")
            }
        }
    }

}

/// Code that takes `count` uninitialised values of the C type `type` from `arena`.
func allocation(_ type: String, count: String) -> String {
    "arena.allocate(byteCount: MemoryLayout<\(type)>.stride &* \(count), alignment: MemoryLayout<\(type)>.alignment)"
        + ".bindMemory(to: \(type).self, capacity: \(count))"
}
