import FlowEngine
import FlowEngineProto
import Foundation
import ProtoCoding
import RPCCore
import RPCModels
import Runtime

/// A fresh SecretBox key configuration for the control plane under test.
func testSecretBoxKeys() -> String {
    let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
    return "k1:" + Data(key).base64EncodedString()
}

/// A unique tenant id, so parallel suites never share rows.
func uniqueTenant() -> String { "tenant-" + UUID().uuidString.lowercased() }

/// A `google.protobuf.Struct` from JSON object text.
func protoStruct(_ text: String) throws -> Google_Protobuf_Struct {
    guard case .object(let members) = try JSONValue.parse(text) else { throw CocoaError(.coderInvalidValue) }
    return ProtoJSON.structure(members)
}

/// Whether `secret` occurs anywhere in a message's wire bytes.
func wireContains(_ message: some ProtoMessage, _ secret: String) -> Bool {
    let bytes = message.serializedBytes()
    let needle = Array(secret.utf8)
    guard bytes.count >= needle.count else { return false }
    return (0...(bytes.count - needle.count)).contains { Array(bytes[$0..<$0 + needle.count]) == needle }
}

/// A create request.
func toolRequest(
    _ name: String, kind: Agentplane_V1_ToolKind, config: String = "{}", secrets: [String: String] = [:],
    schema: String? = nil, enabled: Bool = true
) throws -> Agentplane_V1_CreateToolRequest {
    var request = Agentplane_V1_CreateToolRequest()
    request.name = name
    request.description = "test tool \(name)"
    request.kind = kind
    request.config = try protoStruct(config)
    request.secrets = secrets
    if let schema { request.inputSchema = try protoStruct(schema) }
    request.enabled = enabled
    return request
}

/// The violations' fields of an error's details.
func violationFields(_ error: RPCError?) -> [String] {
    error?.details?.violations.map(\.field) ?? []
}
