import ProtoCoding
import ProtoJSON
import RPCModels
import TestModels
import Testing

@Suite("Reading a stream item's oneof member and integers from wire bytes (Server-Sent Events)")
struct WireInspectionTests {
    private let schema = TestSchema.shared
    private let type = "agentplane.v1.SendMessageResponse"

    @Test func theSetOneofMembersJSONName() throws {
        let items: [(Agentplane_V1_SendMessageResponse, String?)] = [
            (Agentplane_V1_SendMessageResponse(item: .userMessage(Agentplane_V1_Message())), "userMessage"),
            (Agentplane_V1_SendMessageResponse(item: .event(Agentplane_V1_ExecutionEvent())), "event"),
            (Agentplane_V1_SendMessageResponse(item: .assistantMessage(Agentplane_V1_Message())), "assistantMessage"),
            (Agentplane_V1_SendMessageResponse(), nil),
        ]
        for (item, name) in items {
            #expect(try schema.setOneofMember(wire: item.serializedBytes(), as: type) == name)
            #expect(try schema.setOneofMember(wire: item.serializedBytes(), as: type, oneof: "item") == name)
        }
        #expect(throws: ProtoJSONError.self) { try schema.setOneofMember(wire: [], as: type, oneof: "nope") }
        #expect(try schema.setOneofMember(wire: [], as: "agentplane.v1.GetAgentRequest") == nil)
        // The member given last wins, as protobuf decodes it.
        let both: [UInt8] = [0x12, 0x00, 0x0A, 0x00]
        #expect(try schema.setOneofMember(wire: both, as: type) == "userMessage")
        #expect(throws: ProtoJSONError.self) { try schema.setOneofMember(wire: [0x12, 0x05], as: type) }
    }

    @Test func anIntegerByFieldPath() throws {
        let event = Agentplane_V1_ExecutionEvent(runID: "r", sequence: 9_007_199_254_740_993)
        let wire = Agentplane_V1_SendMessageResponse(item: .event(event)).serializedBytes()
        #expect(try schema.integer(at: ["event", "sequence"], wire: wire, as: type) == 9_007_199_254_740_993)
        let user = Agentplane_V1_SendMessageResponse(item: .userMessage(Agentplane_V1_Message())).serializedBytes()
        #expect(try schema.integer(at: ["event", "sequence"], wire: user, as: type) == nil)
        #expect(try schema.integer(at: ["userMessage", "role"], wire: user, as: type) == 0)
        let zero = Agentplane_V1_SendMessageResponse(item: .event(Agentplane_V1_ExecutionEvent())).serializedBytes()
        #expect(try schema.integer(at: ["event", "sequence"], wire: zero, as: type) == 0)
        let scalars = Agentplane_Test_V1_Scalars(fUint64: .max, fSint32: -5, fSfixed64: -6).serializedBytes()
        #expect(try schema.integer(at: ["f_sint32"], wire: scalars, as: "agentplane.test.v1.Scalars") == -5)
        #expect(try schema.integer(at: ["fSfixed64"], wire: scalars, as: "agentplane.test.v1.Scalars") == -6)
        #expect(throws: ProtoJSONError.self) {
            try schema.integer(at: ["f_uint64"], wire: scalars, as: "agentplane.test.v1.Scalars")
        }
        #expect(throws: ProtoJSONError.self) {
            try schema.integer(at: ["f_string"], wire: scalars, as: "agentplane.test.v1.Scalars")
        }
        #expect(throws: ProtoJSONError.self) { try schema.integer(at: ["event", "nope"], wire: wire, as: type) }
        #expect(throws: ProtoJSONError.self) { try schema.integer(at: [], wire: wire, as: type) }
    }
}
