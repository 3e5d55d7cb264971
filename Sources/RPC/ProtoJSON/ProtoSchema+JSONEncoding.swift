extension ProtoSchema {
    /// Protobuf wire bytes of `messageType` → compact JSON text (UTF-8), by proto3's JSON mapping:
    /// json_name keys in field-number order, every field without presence written (defaults too),
    /// messages, oneof members and `optional` fields only when set.
    ///
    /// With `field` (proto or JSON name of a top-level field, as google.api.http's
    /// `response_body` names it), only that field's value is written: an absent message field as
    /// the message with every field at its default.
    public func encode(
        wire: some Collection<UInt8>, as messageType: String, field: String? = nil,
        limits: ProtoJSONLimits = .defaults
    ) throws(ProtoJSONError) -> [UInt8] {
        let type = try requireMessage(messageType)
        let bytes = Array(wire)
        var writer = WireToJSON(schema: self, limits: limits, bytes: bytes)
        if let field {
            guard let selected = type.field(named: field) else {
                throw ProtoJSONError(
                    path: "", reason: "unknown field \(JSONQuoting.quoted(field)) in \(type.fullName)")
            }
            let fields = try writer.wireFields([0..<bytes.count], type)
            writer.path.push(.key(selected.jsonName))
            try writer.fieldValue(
                selected, fields.occurrences(selected.number), fields: fields, depth: 0)
        } else {
            try writer.message(type, [0..<bytes.count], depth: 1)
        }
        return writer.out.bytes
    }
}
