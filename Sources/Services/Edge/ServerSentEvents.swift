import NIOHTTP1
import ProtoJSON

/// A server-streaming RPC's responses as Server-Sent Events: `event:` the set top-level oneof
/// member's JSON name (else `message`), `id:` the run event's sequence where the message carries
/// one, `data:` the message in proto3 JSON (one line: the JSON is compact).
struct ServerSentEvents: Sendable {
    /// The response headers of an event stream.
    static let headers: HTTPHeaders = [
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        // Proxies (nginx) must pass events on as they come.
        "x-accel-buffering": "no",
    ]

    /// A comment line that keeps an idle stream (and its proxies) alive.
    static let heartbeat = Array(": keep-alive\n\n".utf8)

    private let schema: ProtoSchema
    private let messageType: String
    /// The oneof members' field numbers and JSON names, and the message types of fields that may
    /// carry a sequence.
    private let members: [Int: (jsonName: String, messageType: String?)]
    private let sequenceField: Int?
    private let memberSequenceFields: [Int: Int]

    init(schema: ProtoSchema, messageType: String) {
        self.schema = schema
        self.messageType = messageType
        var members: [Int: (jsonName: String, messageType: String?)] = [:]
        var memberSequenceFields: [Int: Int] = [:]
        let message = schema.message(messageType)
        for field in message?.fields ?? [] where field.oneofIndex != nil && !field.isProto3Optional {
            let type = field.messageTypeName
            members[Int(field.number)] = (field.jsonName, type)
            if let type, let sequence = schema.message(type)?.field(named: "sequence"), sequence.isInteger {
                memberSequenceFields[Int(field.number)] = Int(sequence.number)
            }
        }
        self.members = members
        self.memberSequenceFields = memberSequenceFields
        sequenceField = message?.field(named: "sequence").flatMap { $0.isInteger ? Int($0.number) : nil }
    }

    /// The event for one response message.
    func event(for wire: [UInt8]) throws(ProtoJSONError) -> [UInt8] {
        let json = try schema.encode(wire: wire, as: messageType, field: nil)
        let fields = WireFields(bytes: wire)
        var name = "message"
        var sequence: UInt64?
        if let sequenceField { sequence = fields.varint(sequenceField) }
        if let set = fields.fields?.last(where: { members[Int($0.number)] != nil }) {
            let number = Int(set.number)
            name = members[number]?.jsonName ?? name
            if sequence == nil, let inner = memberSequenceFields[number], let payload = fields.payload(number) {
                sequence = WireFields(bytes: payload).varint(inner)
            }
        }
        var out = Array("event: \(name)\n".utf8)
        if let sequence { out += Array("id: \(sequence)\n".utf8) }
        out += Array("data: ".utf8)
        out += json
        out += Array("\n\n".utf8)
        return out
    }

    /// The event that ends a stream with an error: `event: error`, the error's JSON.
    static func errorEvent(_ error: EdgeError) -> [UInt8] {
        Array("event: error\ndata: ".utf8) + error.jsonBody() + Array("\n\n".utf8)
    }
}
