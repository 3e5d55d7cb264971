public import ProtoCoding

/// The registry of messages and enums the JSON mapping works from, built from compiled-in .proto
/// files' descriptors (`AgentplaneProtoFiles.all`): JSON is transcoded for any message it holds,
/// without generated code per message.
public struct ProtoSchema: Sendable {
    private let messages: [String: MessageSchema]
    private let enums: [String: EnumSchema]

    /// Builds the registry from serialized `FileDescriptorProto`s. A file given twice (by name) is
    /// read once; every message and enum a field refers to must be in one of the files.
    public init(files: [ProtoFileDescriptor]) throws(ProtoJSONError) {
        var seenFiles = Set<String>()
        var described: [String: DescribedMessage] = [:]
        var enums: [String: EnumSchema] = [:]
        for file in files where seenFiles.insert(file.name).inserted {
            let description: FileDescription
            do {
                description = try DescriptorReader.file(file.serializedDescriptor)
            } catch {
                throw ProtoJSONError(path: file.name, reason: "malformed file descriptor: \(error.reason)")
            }
            let scope = description.package.isEmpty ? "" : description.package + "."
            for enumeration in description.enums {
                try Self.register(enumeration, scope: scope, into: &enums)
            }
            for message in description.messages {
                try Self.register(
                    message, scope: scope, syntax: description.syntax, messages: &described, enums: &enums)
            }
        }
        for name in described.keys where enums[name] != nil {
            throw ProtoJSONError(path: name, reason: "declared twice")
        }
        var messages: [String: MessageSchema] = [:]
        for (name, message) in described {
            messages[name] = try Self.schema(of: message, named: name, messages: described, enums: enums)
        }
        self.messages = messages
        self.enums = enums
    }

    /// The message named `fullName` (`agentplane.v1.GetAgentRequest`, no leading dot).
    public func message(_ fullName: String) -> MessageSchema? { messages[fullName] }

    /// The enum named `fullName` (`agentplane.v1.Role`, no leading dot).
    public func enumeration(_ fullName: String) -> EnumSchema? { enums[fullName] }

    /// The full names of every message, sorted.
    public var messageNames: [String] { messages.keys.sorted() }

    /// The JSON name protoc gives a field without an explicit `json_name`: each `_` dropped and the
    /// letter after it capitalized (`agent_id` → `agentId`).
    public static func jsonName(forFieldNamed name: String) -> String {
        var result: [UInt8] = []
        var capitalizeNext = false
        for byte in name.utf8 {
            if byte == UInt8(ascii: "_") {
                capitalizeNext = true
            } else if capitalizeNext {
                result.append(byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte)
                capitalizeNext = false
            } else {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

extension ProtoSchema {
    /// A message's descriptor and the syntax of its file.
    private struct DescribedMessage {
        let description: MessageDescription
        let syntax: String
    }

    private static func register(
        _ enumeration: EnumDescription, scope: String, into enums: inout [String: EnumSchema]
    ) throws(ProtoJSONError) {
        let name = scope + enumeration.name
        guard enums[name] == nil else { throw ProtoJSONError(path: name, reason: "declared twice") }
        guard !enumeration.values.isEmpty else { throw ProtoJSONError(path: name, reason: "an enum without values") }
        enums[name] = EnumSchema(fullName: name, values: enumeration.values)
    }

    private static func register(
        _ message: MessageDescription, scope: String, syntax: String, messages: inout [String: DescribedMessage],
        enums: inout [String: EnumSchema]
    ) throws(ProtoJSONError) {
        let name = scope + message.name
        guard messages[name] == nil else { throw ProtoJSONError(path: name, reason: "declared twice") }
        messages[name] = DescribedMessage(description: message, syntax: syntax)
        for enumeration in message.enums {
            try register(enumeration, scope: name + ".", into: &enums)
        }
        for nested in message.nestedMessages {
            try register(nested, scope: name + ".", syntax: syntax, messages: &messages, enums: &enums)
        }
    }

    private static func schema(
        of message: DescribedMessage, named name: String, messages: [String: DescribedMessage],
        enums: [String: EnumSchema]
    ) throws(ProtoJSONError) -> MessageSchema {
        let description = message.description
        // Synthetic oneofs (one per proto3 `optional` field) are not listed; the others are renumbered.
        let synthetic = Set(description.fields.filter(\.isProto3Optional).compactMap(\.oneofIndex))
        var oneofNames: [String] = []
        var oneofIndexes: [Int: Int] = [:]
        for (index, oneofName) in description.oneofNames.enumerated() where !synthetic.contains(index) {
            oneofIndexes[index] = oneofNames.count
            oneofNames.append(oneofName)
        }
        var fields: [FieldSchema] = []
        var numbers = Set<Int32>()
        for field in description.fields {
            let path = name + "." + field.name
            guard field.number >= 1, numbers.insert(field.number).inserted else {
                throw ProtoJSONError(path: path, reason: "invalid or repeated field number \(field.number)")
            }
            if let index = field.oneofIndex, index >= description.oneofNames.count {
                throw ProtoJSONError(path: path, reason: "oneof_index \(index) out of range")
            }
            let kind = try Self.kind(of: field, path: path, messages: messages, enums: enums)
            var mapKey: FieldKind?
            var mapValue: FieldKind?
            if field.label == 3, case .message(let entryName) = kind, let entry = messages[entryName],
                entry.description.isMapEntry
            {
                for entryField in entry.description.fields {
                    let entryKind = try Self.kind(
                        of: entryField, path: entryName + "." + entryField.name, messages: messages, enums: enums)
                    if entryField.number == 1 { mapKey = entryKind }
                    if entryField.number == 2 { mapValue = entryKind }
                }
                guard mapKey != nil, mapValue != nil else {
                    throw ProtoJSONError(path: path, reason: "map entry \(entryName) lacks its key or value")
                }
            }
            let isMap = mapKey != nil
            let isRepeated = field.label == 3 && !isMap
            let jsonName = field.jsonName ?? Self.jsonName(forFieldNamed: field.name)
            var key = JSONWriter()
            key.string(jsonName)
            key.raw(UInt8(ascii: ":"))
            fields.append(
                FieldSchema(
                    name: field.name, jsonName: jsonName,
                    number: field.number, kind: kind, isRepeated: isRepeated, isMap: isMap, mapKey: mapKey,
                    mapValue: mapValue, oneofIndex: field.oneofIndex.flatMap { oneofIndexes[$0] },
                    isProto3Optional: field.isProto3Optional,
                    isPacked: isRepeated && kind.isPackable && (field.packed ?? (message.syntax != "proto2")),
                    hasPresence: field.label != 3
                        && (kind.isMessage || field.oneofIndex != nil || field.isProto3Optional
                            || (message.syntax == "proto2" && field.label == 1)),
                    jsonKey: key.bytes
                ))
        }
        return MessageSchema(
            fullName: name, fields: fields, oneofNames: oneofNames, isMapEntry: description.isMapEntry)
    }

    private static func kind(
        of field: FieldDescription, path: String, messages: [String: DescribedMessage], enums: [String: EnumSchema]
    ) throws(ProtoJSONError) -> FieldKind {
        let typeName = field.typeName.hasPrefix(".") ? String(field.typeName.dropFirst()) : field.typeName
        switch field.type {
        case 1: return .double
        case 2: return .float
        case 3: return .int64
        case 4: return .uint64
        case 5: return .int32
        case 6: return .fixed64
        case 7: return .fixed32
        case 8: return .bool
        case 9: return .string
        case 10: throw ProtoJSONError(path: path, reason: "groups are not supported")
        case 11:
            guard messages[typeName] != nil else {
                throw ProtoJSONError(path: path, reason: "unknown message type \(field.typeName)")
            }
            return .message(typeName)
        case 12: return .bytes
        case 13: return .uint32
        case 14:
            guard enums[typeName] != nil else {
                throw ProtoJSONError(path: path, reason: "unknown enum type \(field.typeName)")
            }
            return .enumeration(typeName)
        case 15: return .sfixed32
        case 16: return .sfixed64
        case 17: return .sint32
        case 18: return .sint64
        default: throw ProtoJSONError(path: path, reason: "unknown field type \(field.type)")
        }
    }
}

extension FieldKind {
    var isMessage: Bool {
        if case .message = self { return true }
        return false
    }
}
