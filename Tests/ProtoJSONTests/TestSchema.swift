import ProtoCoding
import ProtoJSON
import RPCModels
import TestModels

/// The schema of the contract and the test protos, and shortcuts through it.
enum TestSchema {
    static let shared: ProtoSchema = {
        do {
            return try ProtoSchema(files: AgentplaneProtoFiles.all + TestProtoFiles.all)
        } catch {
            fatalError("the compiled-in descriptors do not build a schema: \(error)")
        }
    }()

    /// The message's JSON text, by our encoder.
    static func json(_ message: some ProtoMessage) throws -> String {
        String(
            decoding: try shared.encode(wire: message.serializedBytes(), as: type(of: message).protoMessageName),
            as: UTF8.self)
    }

    /// `json` decoded by our decoder to wire bytes, then by the generated type.
    static func message<Message: ProtoMessage>(_ json: String, as type: Message.Type) throws -> Message {
        try Message(serializedBytes: shared.decode(json: Array(json.utf8), as: Message.protoMessageName))
    }

    /// The error decoding `json` as `messageType` gives, or nil when it decodes.
    static func decodeError(_ json: String, as messageType: String, limits: ProtoJSONLimits = .defaults)
        -> ProtoJSONError?
    {
        do {
            _ = try shared.decode(json: Array(json.utf8), as: messageType, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// The error encoding `wire` as `messageType` gives, or nil when it encodes.
    static func encodeError(_ wire: [UInt8], as messageType: String, limits: ProtoJSONLimits = .defaults)
        -> ProtoJSONError?
    {
        do {
            _ = try shared.encode(wire: wire, as: messageType, limits: limits)
            return nil
        } catch {
            return error
        }
    }
}
