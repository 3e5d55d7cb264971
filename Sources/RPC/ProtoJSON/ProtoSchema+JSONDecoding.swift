extension ProtoSchema {
    /// JSON text → the protobuf wire bytes of `messageType` (`agentplane.v1.GetAgentRequest`), by
    /// proto3's JSON mapping (docs/PROTO_JSON.md). The bytes are written deterministically: fields by
    /// number, defaults left out, map entries by key.
    public func decode(
        json: some Collection<UInt8>, as messageType: String, limits: ProtoJSONLimits = .defaults
    ) throws(ProtoJSONError) -> [UInt8] {
        let type = try requireMessage(messageType)
        let document = try JSONParser.parse(Array(json), limits: limits)
        var reader = JSONToMessage(schema: self, limits: limits)
        return MessageWriting.bytes(of: try reader.message(document, type: type, depth: 1), type: type, schema: self)
    }

    /// The message named `fullName`, or an error naming it.
    func requireMessage(_ fullName: String) throws(ProtoJSONError) -> MessageSchema {
        guard let type = message(fullName) else {
            throw ProtoJSONError(path: "", reason: "unknown message type \(JSONQuoting.quoted(fullName))")
        }
        return type
    }
}
