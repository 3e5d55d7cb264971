import FoundationEssentials
import ProtoCoding
import RPCModels
import TestModels

/// Contract messages for the round trips and the comparison with Python: stream items of every
/// kind, requests with maps, durations and structs.
enum ContractSamples {
    /// A named message of any generated type.
    struct Sample: Sendable {
        let name: String
        let message: AnyMessage

        init(name: String, message: some ProtoMessage) {
            self.name = name
            self.message = AnyMessage(message)
        }

        init(name: String, message: any ProtoMessageBox) {
            self.name = name
            self.message = AnyMessage(box: message)
        }
    }

    static let userMessage = Agentplane_V1_Message(
        id: "m-1", conversationID: "c-1", role: .user, content: "Where is my order? 📦", runID: "r-1",
        authorID: "u-1", metadata: ["channel": "web", "locale": "de-DE"],
        createdAt: Google_Protobuf_Timestamp(seconds: 1_764_000_000, nanos: 120_000_000))

    static let event = Agentplane_V1_ExecutionEvent(
        runID: "r-1", sequence: 9_007_199_254_740_993,
        emittedAt: Google_Protobuf_Timestamp(seconds: 1_764_000_001, nanos: 1000),
        payload: .nodeFinished(
            Agentplane_V1_NodeFinished(
                nodeID: "lookup", step: 2,
                stateUpdate: Google_Protobuf_Struct(fields: [
                    "hits": Google_Protobuf_Value(kind: .numberValue(3)),
                    "answer": Google_Protobuf_Value(kind: .stringValue("line1\nline2 \"quoted\" \\ \u{1}")),
                    "flags": Google_Protobuf_Value(
                        kind: .listValue(
                            Google_Protobuf_ListValue(values: [
                                Google_Protobuf_Value(kind: .boolValue(false)),
                                Google_Protobuf_Value(kind: .nullValue(.nullValue)),
                            ]))),
                ]), checkpointID: "cp-2", elapsed: Google_Protobuf_Duration(seconds: 1, nanos: 500_000_000))))

    static let samples: [Sample] = [
        Sample(name: "send_user_message", message: Agentplane_V1_SendMessageResponse(item: .userMessage(userMessage))),
        Sample(name: "send_event", message: Agentplane_V1_SendMessageResponse(item: .event(event))),
        Sample(
            name: "send_assistant_message",
            message: Agentplane_V1_SendMessageResponse(item: .assistantMessage(Agentplane_V1_Message(role: .assistant)))
        ),
        Sample(name: "send_nothing", message: Agentplane_V1_SendMessageResponse()),
        Sample(
            name: "list_agents_request",
            message: Agentplane_V1_ListAgentsRequest(
                pageSize: 50, pageToken: "abc", tags: ["a", "b"], nameContains: "desk")),
        Sample(name: "get_agent_request", message: Agentplane_V1_GetAgentRequest(agentID: "a-1")),
    ]
}

/// A message of any generated type: its name, its bytes, and a check of a decoding against it.
struct AnyMessage: Sendable {
    let typeName: String
    let encoded: @Sendable () -> [UInt8]
    let decodesEqual: @Sendable ([UInt8]) throws -> Bool

    init<Message: ProtoMessage>(_ message: Message) {
        typeName = Message.protoMessageName
        encoded = { message.serializedBytes() }
        decodesEqual = { try Message(serializedBytes: $0) == message }
    }

    init(box: any ProtoMessageBox) {
        typeName = box.typeName
        encoded = { box.encoded() }
        decodesEqual = { try box.decodesEqual($0) }
    }
}
