import ProtoCoding
import RPCModels

/// Decoding of every request message type of the contract: the first byte picks the type, the
/// rest is the message. What decodes must encode and decode again.
enum DecodeTarget {
    static let types = AgentplaneProtoFiles.requestTypes

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let type = types[Int(first) % types.count]
        roundTrip(type, UnsafeRawBufferPointer(rebasing: bytes.dropFirst()))
    }

    private static func roundTrip<Message: ProtoMessage>(_ type: Message.Type, _ bytes: UnsafeRawBufferPointer) {
        guard let message = try? Message(serializedBytes: bytes) else { return }
        let encoded = message.serializedBytes()
        do {
            _ = try Message(serializedBytes: encoded)
        } catch {
            fatalError("\(Message.protoMessageName) decoded, but its encoding does not: \(error)")
        }
    }
}
