/// A `FileDescriptorProto` decoded down to what the JSON mapping needs.
struct FileDescription {
    var name = ""
    var package = ""
    var syntax = ""
    var messages: [MessageDescription] = []
    var enums: [EnumDescription] = []
}

/// A `DescriptorProto`, with its nested types.
struct MessageDescription {
    var name = ""
    var fields: [FieldDescription] = []
    var nestedMessages: [MessageDescription] = []
    var enums: [EnumDescription] = []
    var oneofNames: [String] = []
    var isMapEntry = false
}

/// A `FieldDescriptorProto`.
struct FieldDescription {
    var name = ""
    var number: Int32 = 0
    /// 1 optional, 2 required, 3 repeated.
    var label: UInt64 = 1
    /// `FieldDescriptorProto.Type`: 1 double ... 18 sint64.
    var type: UInt64 = 0
    var typeName = ""
    var jsonName: String?
    var oneofIndex: Int?
    var isProto3Optional = false
    var packed: Bool?
}

/// An `EnumDescriptorProto`.
struct EnumDescription {
    var name = ""
    var values: [EnumValueSchema] = []
}

/// Decodes serialized `google.protobuf.FileDescriptorProto`s with a small wire reader: only the
/// fields the JSON mapping uses; everything else is skipped.
enum DescriptorReader {
    static func file(_ bytes: [UInt8]) throws(WireError) -> FileDescription {
        var file = FileDescription()
        var reader = WireReader(bytes)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.readTag()
            let value = try reader.readValue(wireType, number: number, maxDepth: 8)
            switch (number, value) {
            case (1, .lengthDelimited(let range)): file.name = try string(bytes, range)
            case (2, .lengthDelimited(let range)): file.package = try string(bytes, range)
            case (4, .lengthDelimited(let range)): file.messages.append(try message(bytes, range, depth: 0))
            case (5, .lengthDelimited(let range)): file.enums.append(try enumeration(bytes, range))
            case (12, .lengthDelimited(let range)): file.syntax = try string(bytes, range)
            default: break
            }
        }
        return file
    }

    private static func message(_ bytes: [UInt8], _ range: Range<Int>, depth: Int) throws(WireError)
        -> MessageDescription
    {
        guard depth < 100 else { throw WireError(reason: "messages nested too deeply") }
        var message = MessageDescription()
        var reader = WireReader(bytes, range: range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.readTag()
            let value = try reader.readValue(wireType, number: number, maxDepth: 8)
            switch (number, value) {
            case (1, .lengthDelimited(let range)): message.name = try string(bytes, range)
            case (2, .lengthDelimited(let range)): message.fields.append(try field(bytes, range))
            case (3, .lengthDelimited(let range)):
                message.nestedMessages.append(try self.message(bytes, range, depth: depth + 1))
            case (4, .lengthDelimited(let range)): message.enums.append(try enumeration(bytes, range))
            case (7, .lengthDelimited(let range)):
                // MessageOptions.map_entry = 7.
                if let isMapEntry = try bool(in: bytes, range, field: 7) { message.isMapEntry = isMapEntry }
            case (8, .lengthDelimited(let range)):
                // OneofDescriptorProto.name = 1.
                message.oneofNames.append(try string(in: bytes, range, field: 1) ?? "")
            default: break
            }
        }
        return message
    }

    private static func field(_ bytes: [UInt8], _ range: Range<Int>) throws(WireError) -> FieldDescription {
        var field = FieldDescription()
        var reader = WireReader(bytes, range: range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.readTag()
            let value = try reader.readValue(wireType, number: number, maxDepth: 8)
            switch (number, value) {
            case (1, .lengthDelimited(let range)): field.name = try string(bytes, range)
            case (3, .varint(let value)): field.number = Int32(truncatingIfNeeded: value)
            case (4, .varint(let value)): field.label = value
            case (5, .varint(let value)): field.type = value
            case (6, .lengthDelimited(let range)): field.typeName = try string(bytes, range)
            case (8, .lengthDelimited(let range)):
                // FieldOptions.packed = 2.
                if let packed = try bool(in: bytes, range, field: 2) { field.packed = packed }
            case (9, .varint(let value)):
                guard value < 10_000 else { throw WireError(reason: "oneof_index \(value) out of range") }
                field.oneofIndex = Int(value)
            case (10, .lengthDelimited(let range)): field.jsonName = try string(bytes, range)
            case (17, .varint(let value)): field.isProto3Optional = value != 0
            default: break
            }
        }
        return field
    }

    private static func enumeration(_ bytes: [UInt8], _ range: Range<Int>) throws(WireError) -> EnumDescription {
        var description = EnumDescription()
        var reader = WireReader(bytes, range: range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.readTag()
            let value = try reader.readValue(wireType, number: number, maxDepth: 8)
            switch (number, value) {
            case (1, .lengthDelimited(let range)): description.name = try string(bytes, range)
            case (2, .lengthDelimited(let range)):
                // EnumValueDescriptorProto: name = 1, number = 2.
                var name = ""
                var valueNumber: Int32 = 0
                var valueReader = WireReader(bytes, range: range)
                while !valueReader.isAtEnd {
                    let (number, wireType) = try valueReader.readTag()
                    switch (number, try valueReader.readValue(wireType, number: number, maxDepth: 8)) {
                    case (1, .lengthDelimited(let range)): name = try string(bytes, range)
                    case (2, .varint(let value)): valueNumber = Int32(truncatingIfNeeded: value)
                    default: break
                    }
                }
                description.values.append(EnumValueSchema(name: name, number: valueNumber))
            default: break
            }
        }
        return description
    }

    private static func string(_ bytes: [UInt8], _ range: Range<Int>) throws(WireError) -> String {
        guard UTF8Validation.isValid(bytes, range) else { throw WireError(reason: "a name is not valid UTF-8") }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// The string field `field` of the message at `range`, if present.
    private static func string(in bytes: [UInt8], _ range: Range<Int>, field: Int32) throws(WireError) -> String? {
        var reader = WireReader(bytes, range: range)
        var result: String?
        while !reader.isAtEnd {
            let (number, wireType) = try reader.readTag()
            if case .lengthDelimited(let range) = try reader.readValue(wireType, number: number, maxDepth: 8),
                number == field
            {
                result = try string(bytes, range)
            }
        }
        return result
    }

    /// The bool field `field` of the message at `range`, if present.
    private static func bool(in bytes: [UInt8], _ range: Range<Int>, field: Int32) throws(WireError) -> Bool? {
        var reader = WireReader(bytes, range: range)
        var result: Bool?
        while !reader.isAtEnd {
            let (number, wireType) = try reader.readTag()
            if case .varint(let value) = try reader.readValue(wireType, number: number, maxDepth: 8), number == field {
                result = value != 0
            }
        }
        return result
    }
}
