import ProtoCoding
import ProtoJSON
import RPCModels

/// The proto3 JSON mapping (ProtoJSON) on every request message type of the contract: the first
/// byte picks the type, the rest is JSON decoded as that type. What decodes must encode back to
/// JSON, and that JSON must decode again to the same bytes; the bytes must decode with the
/// generated type too, unless a string holds a NUL (protobuf-c's strings cannot carry one) or
/// Structs nest past the decoder's 100 levels of messages (each JSON level of a Struct is three).
enum JSONTarget {
    static let schema: ProtoSchema = {
        do {
            return try ProtoSchema(files: AgentplaneProtoFiles.all)
        } catch {
            fatalError("the contract's descriptors do not build a schema: \(error)")
        }
    }()
    static let types = AgentplaneProtoFiles.requestTypes

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let type = types[Int(first) % types.count]
        check(type, UnsafeRawBufferPointer(rebasing: bytes.dropFirst()))
    }

    private static func check<Message: ProtoMessage>(_ type: Message.Type, _ json: UnsafeRawBufferPointer) {
        let name = Message.protoMessageName
        guard let wire = try? schema.decode(json: json, as: name) else { return }
        do {
            let again = try schema.decode(json: try schema.encode(wire: wire, as: name), as: name)
            guard again == wire else { fatalError("\(name): JSON → bytes → JSON → bytes changed the bytes") }
        } catch {
            fatalError("\(name): JSON decoded, but its bytes do not go back through JSON: \(error)")
        }
        do {
            _ = try Message(serializedBytes: wire)
        } catch {
            guard error.code == .embeddedNUL || error.code == .tooDeep else {
                fatalError("\(name): the generated type refuses the JSON mapping's bytes: \(error)")
            }
        }
    }
}
