/// Writes a message's Swift value type and its conversion to and from the protobuf-c struct.
struct MessageGenerator {
    let message: MessageType
    let context: GeneratorContext

    private var typeName: String { context.swiftName("." + message.fullName) }
    private var cStruct: String { Naming.cStructName(fullName: message.fullName) }
    private var cInit: String { Naming.cFunctionPrefix(fullName: message.fullName) + "__init" }

    /// The struct declaration, with nested types inside it.
    func writeDeclaration(_ w: inout CodeWriter) {
        w.docComment(message.comment)
        let shortName = typeName.split(separator: ".").last.map(String.init) ?? typeName
        w.block("public struct \(shortName): ProtoMessage") { w in
            w.line("public static let protoMessageName = \"\(message.fullName)\"")
            w.line(
                "public static var protoFile: ProtoFileDescriptor { \(context.fileDescriptorHolder(message.fullName)).descriptor }"
            )
            for field in message.plainFields {
                w.line()
                writeProperty(field, &w)
            }
            for (index, name) in message.oneofNames.enumerated() where !message.oneofMembers(index).isEmpty {
                w.line()
                writeOneof(index: index, name: name, &w)
            }
            for nested in message.nestedEnums {
                w.line()
                EnumGenerator(type: nested, context: context).write(&w)
            }
            for nested in message.nestedMessages where !nested.isMapEntry {
                w.line()
                MessageGenerator(message: nested, context: context).writeDeclaration(&w)
            }
            w.line()
            w.line("/// A message with every field at its default value.")
            w.line("public init() {}")
            writeMemberwiseInit(&w)
        }
    }

    /// The coding extension, for this message and every nested one.
    func writeCoding(_ w: inout CodeWriter) {
        w.line()
        w.block("extension \(typeName)") { w in
            writeCodingMembers(&w)
        }
        for nested in message.nestedMessages where !nested.isMapEntry {
            MessageGenerator(message: nested, context: context).writeCoding(&w)
        }
    }

    // MARK: Declaration

    private func swiftType(_ field: Field) -> String {
        if field.label == .repeated, let entry = mapEntry(field) {
            let key = ValueCoding(kind: entry.key.kind, typeName: entry.key.typeName, context: context)
            let value = ValueCoding(kind: entry.value.kind, typeName: entry.value.typeName, context: context)
            return "[\(key.swiftType): \(value.swiftType)]"
        }
        let coding = ValueCoding(kind: field.kind, typeName: field.typeName, context: context)
        if field.label == .repeated { return "[\(coding.swiftType)]" }
        return coding.isMessage ? coding.swiftType + "?" : coding.swiftType
    }

    private func defaultValue(_ field: Field) -> String {
        if field.label == .repeated { return mapEntry(field) == nil ? "[]" : "[:]" }
        return ValueCoding(kind: field.kind, typeName: field.typeName, context: context)
            .defaultValue(context: context, typeName: field.typeName)
    }

    private func isBoxed(_ field: Field) -> Bool {
        field.label == .singular && field.kind == .message
            && context.graph.needsBox(owner: "." + message.fullName, fieldType: field.typeName)
    }

    private func mapEntry(_ field: Field) -> (key: Field, value: Field)? {
        guard field.kind == .message else { return nil }
        let entry = context.types.message(field.typeName)
        guard entry.isMapEntry, entry.fields.count == 2 else { return nil }
        return (entry.fields[0], entry.fields[1])
    }

    private func propertyName(_ field: Field) -> String {
        Naming.swiftPropertyName(field.name)
    }

    private func writeProperty(_ field: Field, _ w: inout CodeWriter) {
        w.docComment(field.comment)
        let name = propertyName(field)
        let type = swiftType(field)
        if isBoxed(field) {
            let inner = String(type.dropLast())
            w.block("public var \(Naming.escaped(name)): \(type)") { w in
                w.line("get { _\(name)?.value }")
                w.line("set { _\(name) = newValue.map(ProtoBox.init) }")
            }
            w.line("package var _\(name): ProtoBox<\(inner)>? = nil")
        } else {
            w.line("public var \(Naming.escaped(name)): \(type) = \(defaultValue(field))")
        }
    }

    private func oneofTypeName(_ name: String) -> String { "OneOf_" + Naming.swiftUpperCamel(name) }

    private func isIndirect(oneof index: Int) -> Bool {
        message.oneofMembers(index).contains {
            $0.kind == .message && context.graph.needsBox(owner: "." + message.fullName, fieldType: $0.typeName)
        }
    }

    private func writeOneof(index: Int, name: String, _ w: inout CodeWriter) {
        let members = message.oneofMembers(index)
        let enumName = oneofTypeName(name)
        let property = Naming.escaped(Naming.swiftPropertyName(name))
        w.line("/// Which of the `\(name)` fields is set, if any.")
        w.line("public var \(property): \(enumName)? = nil")
        w.line()
        w.line("/// The fields of the oneof `\(name)`: at most one is set.")
        let indirect = isIndirect(oneof: index) ? "indirect " : ""
        w.block("public \(indirect)enum \(enumName): Hashable, Sendable") { w in
            for member in members {
                w.docComment(member.comment)
                let coding = ValueCoding(kind: member.kind, typeName: member.typeName, context: context)
                w.line("case \(Naming.escaped(propertyName(member)))(\(coding.swiftType))")
            }
        }
        for member in members {
            let coding = ValueCoding(kind: member.kind, typeName: member.typeName, context: context)
            let caseName = Naming.escaped(propertyName(member))
            w.line()
            w.docComment(member.comment)
            if coding.isMessage {
                w.block("public var \(caseName): \(coding.swiftType)?") { w in
                    w.line("get { if case .\(caseName)(let value)? = \(property) { value } else { nil } }")
                    w.line("set { \(property) = newValue.map { .\(caseName)($0) } }")
                }
            } else {
                let zero = coding.defaultValue(context: context, typeName: member.typeName)
                w.block("public var \(caseName): \(coding.swiftType)") { w in
                    w.line("get { if case .\(caseName)(let value)? = \(property) { value } else { \(zero) } }")
                    w.line("set { \(property) = .\(caseName)(newValue) }")
                }
            }
        }
    }

    private func writeMemberwiseInit(_ w: inout CodeWriter) {
        var parameters: [(name: String, type: String, defaultValue: String)] = message.plainFields.map {
            (propertyName($0), swiftType($0), defaultValue($0))
        }
        for (index, name) in message.oneofNames.enumerated() where !message.oneofMembers(index).isEmpty {
            parameters.append((Naming.swiftPropertyName(name), oneofTypeName(name) + "?", "nil"))
        }
        guard !parameters.isEmpty else { return }
        w.line()
        w.line("/// A message with the given field values; the rest keep their defaults.")
        w.line("public init(")
        w.indent { w in
            for (offset, parameter) in parameters.enumerated() {
                let comma = offset == parameters.count - 1 ? "" : ","
                w.line("\(parameter.name): \(parameter.type) = \(parameter.defaultValue)\(comma)")
            }
        }
        w.block(")") { w in
            for parameter in parameters {
                w.line("self.\(Naming.escaped(parameter.name)) = \(Naming.escaped(parameter.name))")
            }
        }
    }

    // MARK: Coding

    private func writeCodingMembers(_ w: inout CodeWriter) {
        let recursive = context.graph.isRecursive("." + message.fullName)
        w.line("package static let _protobufC = ProtoCDescriptor(")
        w.line("    initialized: { var message = \(cStruct)(); \(cInit)(&message); return message.base }())")
        w.line()
        w.line("/// Decodes a message from its wire format.")
        w.block("public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)") { w in
            if recursive {
                w.line("try ProtoCodec.checkDepth(Self._protobufC, bytes, name: Self.protoMessageName)")
            }
            w.line("self = try withUnsafeTemporaryAllocation(")
            w.line("    byteCount: ProtoArena.scratchSize, alignment: 16")
            w.line(") { (scratch) throws(ProtoDecodingError) in")
            w.indent { w in
                w.line("var arena = ProtoArena(scratch: scratch)")
                w.line("let message = try ProtoCodec.unpack(")
                w.line("    Self._protobufC, bytes, name: Self.protoMessageName, arena: &arena)")
                w.line("return try Self(_protobufC: message.assumingMemoryBound(to: \(cStruct).self))")
            }
            w.line("}")
        }
        w.line()
        w.line("/// Encodes the message to its wire format.")
        w.block("public func serializedBytes() -> [UInt8]") { w in
            w.line("withUnsafeTemporaryAllocation(byteCount: ProtoArena.scratchSize, alignment: 16) { scratch in")
            w.indent { w in
                w.line("var arena = ProtoArena(scratch: scratch)")
                w.line("let message = \(allocation(cStruct, count: "1"))")
                w.line("\(cInit)(message)")
                w.line("_fill(message, &arena)")
                w.line("return ProtoCodec.pack(message, sizeBound: arena.encodedSizeBound)")
            }
            w.line("}")
        }
        w.line()
        w.line("/// Copies the values out of a protobuf-c struct.")
        w.block("package init(_protobufC c: UnsafePointer<\(cStruct)>) throws(ProtoDecodingError)") { w in
            for field in message.plainFields { writeDecode(field, &w) }
            for (index, name) in message.oneofNames.enumerated() where !message.oneofMembers(index).isEmpty {
                writeOneofDecode(index: index, name: name, &w)
            }
        }
        w.line()
        w.line("/// Fills an initialised protobuf-c struct, allocating what it points to in the arena.")
        w.block("package func _fill(_ c: UnsafeMutablePointer<\(cStruct)>, _ arena: inout ProtoArena)") { w in
            for field in message.plainFields { writeEncode(field, &w) }
            for (index, name) in message.oneofNames.enumerated() where !message.oneofMembers(index).isEmpty {
                writeOneofEncode(index: index, name: name, &w)
            }
        }
    }

    private func cField(_ field: Field) -> String {
        "c.pointee." + Naming.escaped(Naming.cFieldName(field.name))
    }

    private func cCount(_ field: Field) -> String {
        "c.pointee.n_" + Naming.cFieldName(field.name)
    }

    private func writeDecode(_ field: Field, _ w: inout CodeWriter) {
        let property = "self." + Naming.escaped(propertyName(field))
        let source = cField(field)
        let coding = ValueCoding(kind: field.kind, typeName: field.typeName, context: context)
        if field.label == .repeated {
            w.block("if \(cCount(field)) > 0, let array = \(source)") { w in
                w.line("let count = \(cCount(field))")
                if let entry = mapEntry(field) {
                    writeMapDecode(entry, property: property, field: field.name, &w)
                } else if case .direct = coding.shape {
                    w.line("\(property) = Array(UnsafeBufferPointer(start: array, count: count))")
                } else {
                    w.line("var values: [\(coding.swiftType)] = []")
                    w.line("values.reserveCapacity(count)")
                    w.block("for index in 0..<count") { w in
                        w.line("values.append(\(coding.decoded("array[index]", field: field.name)))")
                    }
                    w.line("\(property) = values")
                }
            }
        } else if coding.isMessage {
            let target = isBoxed(field) ? "self._\(propertyName(field))" : property
            let wrap =
                isBoxed(field)
                ? "ProtoBox(try \(coding.swiftType)(_protobufC: pointer))"
                : "try \(coding.swiftType)(_protobufC: pointer)"
            w.line("if let pointer = \(source) { \(target) = \(wrap) }")
        } else {
            w.line("\(property) = \(coding.decoded(source, field: field.name))")
        }
    }

    private func writeMapDecode(
        _ entry: (key: Field, value: Field), property: String, field: String, _ w: inout CodeWriter
    ) {
        let key = ValueCoding(kind: entry.key.kind, typeName: entry.key.typeName, context: context)
        let value = ValueCoding(kind: entry.value.kind, typeName: entry.value.typeName, context: context)
        w.line("var values: [\(key.swiftType): \(value.swiftType)] = [:]")
        w.line("values.reserveCapacity(count)")
        w.block("for index in 0..<count") { w in
            w.line("guard let entry = array[index] else { continue }")
            w.line("values[\(key.decoded("entry.pointee.key", field: field))] =")
            w.line("    \(value.decoded("entry.pointee.value", field: field))")
        }
        w.line("\(property) = values")
    }

    private func writeEncode(_ field: Field, _ w: inout CodeWriter) {
        let property = "self." + Naming.escaped(propertyName(field))
        let target = cField(field)
        let coding = ValueCoding(kind: field.kind, typeName: field.typeName, context: context)
        if field.label == .repeated {
            w.block("if !\(property).isEmpty") { w in
                w.line("let count = \(property).count")
                if let entry = mapEntry(field) {
                    writeMapEncode(entry, field: field, property: property, &w)
                } else {
                    w.line("let array = \(allocation(coding.cElementType, count: "count"))")
                    if case .direct = coding.shape {
                        w.line(
                            "\(property).withUnsafeBufferPointer { array.initialize(from: $0.baseAddress!, count: count) }"
                        )
                    } else {
                        w.block("for (index, value) in \(property).enumerated()") { w in
                            coding.encode("value", into: "array[index]", skipEmpty: false, &w)
                        }
                    }
                    w.line("\(cCount(field)) = count")
                    w.line("\(target) = array")
                }
            }
        } else if coding.isMessage {
            w.block("if let value = \(property)") { w in
                coding.encode("value", into: target, skipEmpty: false, &w)
            }
        } else {
            coding.encode(property, into: target, skipEmpty: true, &w)
        }
    }

    private func writeMapEncode(
        _ entry: (key: Field, value: Field), field: Field, property: String, _ w: inout CodeWriter
    ) {
        let entryType = context.types.message(field.typeName)
        let entryStruct = Naming.cStructName(fullName: entryType.fullName)
        let entryInit = Naming.cFunctionPrefix(fullName: entryType.fullName) + "__init"
        let key = ValueCoding(kind: entry.key.kind, typeName: entry.key.typeName, context: context)
        let value = ValueCoding(kind: entry.value.kind, typeName: entry.value.typeName, context: context)
        w.line("let array = \(allocation("UnsafeMutablePointer<\(entryStruct)>?", count: "count"))")
        w.line("var index = 0")
        w.block("for (key, value) in \(property)") { w in
            w.line("let entry = \(allocation(entryStruct, count: "1"))")
            w.line("\(entryInit)(entry)")
            key.encode("key", into: "entry.pointee.key", skipEmpty: true, &w)
            value.encode("value", into: "entry.pointee.value", skipEmpty: true, &w)
            w.line("array[index] = entry")
            w.line("index += 1")
        }
        w.line("\(cCount(field)) = count")
        w.line("\(cField(field)) = array")
    }

    private func writeOneofDecode(index: Int, name: String, _ w: inout CodeWriter) {
        let property = "self." + Naming.escaped(Naming.swiftPropertyName(name))
        w.switchBlock("c.pointee.\(Naming.cFieldName(name))_case.rawValue") { w in
            for member in message.oneofMembers(index) {
                let coding = ValueCoding(kind: member.kind, typeName: member.typeName, context: context)
                let caseName = Naming.escaped(propertyName(member))
                w.line("case \(member.number):")
                w.indent { w in
                    if coding.isMessage {
                        w.line("if let pointer = \(cField(member)) {")
                        w.line("    \(property) = .\(caseName)(try \(coding.swiftType)(_protobufC: pointer))")
                        w.line("}")
                    } else {
                        w.line("\(property) = .\(caseName)(\(coding.decoded(cField(member), field: member.name)))")
                    }
                }
            }
            w.line("default:")
            w.line("    break")
        }
    }

    private func writeOneofEncode(index: Int, name: String, _ w: inout CodeWriter) {
        let property = "self." + Naming.escaped(Naming.swiftPropertyName(name))
        w.switchBlock("\(property)") { w in
            for member in message.oneofMembers(index) {
                let coding = ValueCoding(kind: member.kind, typeName: member.typeName, context: context)
                w.line("case .\(Naming.escaped(propertyName(member)))(let value)?:")
                w.indent { w in
                    w.line("c.pointee.\(Naming.cFieldName(name))_case = .init(rawValue: \(member.number))")
                    coding.encode("value", into: cField(member), skipEmpty: false, &w)
                }
            }
            w.line("case nil:")
            w.line("    break")
        }
    }
}
