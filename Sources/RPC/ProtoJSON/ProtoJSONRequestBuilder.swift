/// Builds a request message from an HTTP request the way google.api.http rules bind one: the JSON
/// body into the whole message (`body: "*"`) or into one top-level field (`body: "field"`), and
/// path and query parameters as text by field path. Parameters override what the body set,
/// whatever the order of the calls.
public struct ProtoJSONRequestBuilder: Sendable {
    /// The registry the message type comes from.
    public let schema: ProtoSchema
    /// The request message type.
    public let messageType: MessageSchema
    /// The bounds on the body and the parameters.
    public let limits: ProtoJSONLimits
    private var body = MessageValue()
    private var parameters = MessageValue()

    /// A builder of an empty `messageType` (`agentplane.v1.GetAgentRequest`).
    public init(schema: ProtoSchema, messageType: String, limits: ProtoJSONLimits = .defaults) throws(ProtoJSONError) {
        self.schema = schema
        self.messageType = try schema.requireMessage(messageType)
        self.limits = limits
    }

    /// Merges a JSON body: into the whole message when `field` is nil or `"*"`, else into that
    /// top-level field (proto or JSON name), whose JSON form the body then is (an object for a
    /// message field, an array for a repeated one). A field the body sets replaces what an earlier
    /// body set.
    public mutating func mergeBody(_ json: some Collection<UInt8>, field: String?) throws(ProtoJSONError) {
        let document = try JSONParser.parse(Array(json), limits: limits)
        var reader = JSONToMessage(schema: schema, limits: limits)
        let merged: MessageValue
        if let field, field != "*" {
            guard let target = messageType.field(named: field) else {
                throw ProtoJSONError(
                    path: "", reason: "unknown body field \(JSONQuoting.quoted(field)) in \(messageType.fullName)")
            }
            if case .null = document, !JSONToMessage.acceptsNull(target.kind) || target.isRepeated || target.isMap {
                return
            }
            reader.path.push(.key(field))
            merged = MessageValue(fields: [target.number: try reader.fieldValue(document, field: target, depth: 1)])
        } else {
            merged = try reader.message(document, type: messageType, depth: 1)
        }
        body.overlay(merged, type: messageType, schema: schema)
    }

    /// Sets the field at `path` (proto or JSON names, through singular message fields:
    /// `["page", "size"]`) from a path or query parameter's text: integers from decimal text, floats
    /// from numbers or `NaN`/`Infinity`/`-Infinity`, bools from `true`/`false`, enums by name or
    /// number, strings as they are, bytes from base64. Each call for a repeated field appends one
    /// element; a singular field given twice, a message or map field, and two members of one
    /// oneof are errors.
    public mutating func setParameter(path: [String], text: String) throws(ProtoJSONError) {
        var fieldPath = FieldPath()
        guard !path.isEmpty, path.count <= limits.maxDepth else {
            throw ProtoJSONError(path: path.joined(separator: "."), reason: "a parameter path of \(path.count) names")
        }
        try Self.set(
            text: Array(text.utf8), path: path[...], in: &parameters, type: messageType, schema: schema,
            limits: limits, fieldPath: &fieldPath)
    }

    /// The request's wire bytes: the body with the parameters over it.
    public func wireBytes() throws(ProtoJSONError) -> [UInt8] {
        var message = body
        message.overlay(parameters, type: messageType, schema: schema)
        return MessageWriting.bytes(of: message, type: messageType, schema: schema)
    }

    private static func set(
        text: [UInt8], path: ArraySlice<String>, in message: inout MessageValue, type: MessageSchema,
        schema: ProtoSchema, limits: ProtoJSONLimits, fieldPath: inout FieldPath
    ) throws(ProtoJSONError) {
        guard let name = path.first else { return }
        fieldPath.push(.key(name))
        guard let field = type.field(named: name) else {
            throw fieldPath.error("unknown field \(JSONQuoting.quoted(name)) in \(type.fullName)")
        }
        if let oneof = field.oneofIndex,
            let other = type.fields.first(where: {
                $0.oneofIndex == oneof && $0.number != field.number && message.fields[$0.number] != nil
            })
        {
            throw fieldPath.error(
                "oneof \(JSONQuoting.quoted(type.oneofNames[oneof])) already has \(JSONQuoting.quoted(other.name)) set")
        }
        if field.isMap { throw fieldPath.error("a map field cannot be set from a parameter") }
        if path.count > 1 {
            guard case .message(let nestedName) = field.kind, !field.isRepeated,
                let nestedType = schema.message(nestedName)
            else { throw fieldPath.error("not a singular message field, so it has no fields to set") }
            var nested = MessageValue()
            if case .single(.message(let existing)) = message.fields[field.number] { nested = existing }
            try set(
                text: text, path: path.dropFirst(), in: &nested, type: nestedType, schema: schema, limits: limits,
                fieldPath: &fieldPath)
            message.fields[field.number] = .single(.message(nested))
            return
        }
        // A message cannot be a parameter, except the well-known types whose JSON is a string
        // (`?start_time=2026-12-07T10:00:00Z`, `?timeout=1.5s`, a field mask).
        if case .message(let name) = field.kind, !Self.stringFormedTypes.contains(name) {
            throw fieldPath.error("a message field cannot be set from a parameter")
        }
        if let maxBytes = limits.maxStringBytes, text.count > maxBytes {
            throw fieldPath.error("a value longer than \(maxBytes) bytes")
        }
        var reader = JSONToMessage(schema: schema, limits: limits)
        reader.path = fieldPath
        let value = try json(for: text, kind: field.kind, limits: limits, fieldPath: fieldPath)
        let element = try reader.element(value, kind: field.kind, depth: 0)
        if field.isRepeated {
            var elements: [Element] = []
            if case .list(let existing) = message.fields[field.number] { elements = existing }
            elements.append(element)
            message.fields[field.number] = .list(elements)
        } else {
            guard message.fields[field.number] == nil else { throw fieldPath.error("the parameter is given twice") }
            message.fields[field.number] = .single(element)
        }
    }

    /// The message types whose JSON form is a string, so a parameter may set them.
    static let stringFormedTypes: Set<String> = [
        "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
    ]

    /// The JSON value a parameter's text stands for, given the field's kind.
    private static func json(
        for text: [UInt8], kind: FieldKind, limits: ProtoJSONLimits, fieldPath: FieldPath
    ) throws(ProtoJSONError) -> JSONValue {
        switch kind {
        case .int32, .int64, .uint32, .uint64, .sint32, .sint64, .fixed32, .fixed64, .sfixed32, .sfixed64:
            guard text.count <= limits.maxNumberLength else {
                throw fieldPath.error("a number longer than \(limits.maxNumberLength) characters")
            }
            guard NumberText.isDecimalInteger(text) else {
                throw fieldPath.error("expected a decimal integer (\(kind.protoName)), got \(JSONQuoting.quoted(text))")
            }
            return .number(text)
        case .bool:
            switch String(decoding: text, as: UTF8.self) {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw fieldPath.error("expected true or false, got \(JSONQuoting.quoted(text))")
            }
        case .enumeration:
            return NumberText.isDecimalInteger(text) && text.count <= limits.maxNumberLength
                ? .number(text) : .string(text)
        case .double, .float, .string, .bytes, .message:
            return .string(text)
        }
    }
}
