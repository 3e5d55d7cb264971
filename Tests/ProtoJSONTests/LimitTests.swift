import ProtoJSON
import RPCModels
import TestModels
import Testing

@Suite("Limits: nesting depth, number length, string size")
struct LimitTests {
    private let schema = TestSchema.shared

    /// A chain of `depth` nested Node objects: `{"child":{"child":...{}}}`.
    private func nodes(_ depth: Int) -> [UInt8] {
        Array(
            (String(repeating: #"{"child":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)).utf8)
    }

    @Test func nestingAtTheLimitPassesAndOnePastIsRefused() throws {
        let wire = try schema.decode(json: nodes(64), as: "agentplane.test.v1.Node")
        #expect(try schema.encode(wire: wire, as: "agentplane.test.v1.Node").count > 0)
        let error = #expect(throws: ProtoJSONError.self) {
            try schema.decode(json: nodes(65), as: "agentplane.test.v1.Node")
        }
        #expect(error?.reason == "nesting deeper than 64 levels")
        #expect(error?.path == Array(repeating: "child", count: 64).joined(separator: "."))
        // Arrays count too: a Node in `children` is two levels below its parent.
        let arrays = Array(
            (String(repeating: #"{"children":["#, count: 32) + "{}" + String(repeating: "]}", count: 32)).utf8)
        #expect(throws: ProtoJSONError.self) { try schema.decode(json: arrays, as: "agentplane.test.v1.Node") }
        let fewer = Array(
            (String(repeating: #"{"children":["#, count: 31) + "{}" + String(repeating: "]}", count: 31)).utf8)
        #expect(throws: Never.self) { try schema.decode(json: fewer, as: "agentplane.test.v1.Node") }
        // An empty array or object is a leaf: one past the limit is fine, where a message is not.
        let emptyArray = Array(
            (String(repeating: #"{"children":["#, count: 31) + #"{"children":[]}"# + String(repeating: "]}", count: 31))
                .utf8)
        #expect(throws: Never.self) { try schema.decode(json: emptyArray, as: "agentplane.test.v1.Node") }
    }

    @Test func deepWireBytesAreRefusedOnOutputToo() throws {
        // Bytes nest as deep as the wire allows; JSON output stops at the limit.
        let deep = CodecCorpus.node(depth: 65).serializedBytes()
        let error = #expect(throws: ProtoJSONError.self) {
            try schema.encode(wire: deep, as: "agentplane.test.v1.Node")
        }
        #expect(error?.reason == "nesting deeper than 64 levels")
        let fine = CodecCorpus.node(depth: 64).serializedBytes()
        #expect(throws: Never.self) { try schema.encode(wire: fine, as: "agentplane.test.v1.Node") }
        // A custom limit applies both ways.
        let small = ProtoJSONLimits(maxDepth: 3)
        #expect(throws: ProtoJSONError.self) {
            try schema.encode(wire: fine, as: "agentplane.test.v1.Node", limits: small)
        }
        #expect(throws: ProtoJSONError.self) {
            try schema.decode(json: nodes(4), as: "agentplane.test.v1.Node", limits: small)
        }
        #expect(throws: Never.self) { try schema.decode(json: nodes(3), as: "agentplane.test.v1.Node", limits: small) }
    }

    @Test func hostileNestingNeverExhaustsTheStack() {
        // A million brackets: refused at depth 65, long before the stack is in danger.
        let brackets = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(throws: ProtoJSONError.self) { try schema.decode(json: brackets, as: "google.protobuf.Value") }
        let values = Array(
            (#"{"value":"# + String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000)
                + "}")
                .utf8)
        #expect(throws: ProtoJSONError.self) { try schema.decode(json: values, as: "agentplane.test.v1.WellKnown") }
        // Struct values nest at the same depth on output as on input.
        let struct63 = String(repeating: #"{"a":"#, count: 63) + "1" + String(repeating: "}", count: 63)
        let wire = try? schema.decode(json: Array(struct63.utf8), as: "google.protobuf.Struct")
        #expect(wire != nil)
        #expect((try? schema.encode(wire: wire ?? [], as: "google.protobuf.Struct")) == Array(struct63.utf8))
    }

    @Test func absurdlyLongNumbersAreRefused() {
        let long = String(repeating: "1", count: 129)
        #expect(
            TestSchema.decodeError(#"{"fDouble":\#(long)}"#, as: "agentplane.test.v1.Scalars")?.reason.contains(
                "longer than 128") == true)
        #expect(
            TestSchema.decodeError(#"{"fInt64":"\#(long)"}"#, as: "agentplane.test.v1.Scalars")?.reason.contains(
                "longer than 128") == true)
        let zeros = "0." + String(repeating: "0", count: 125) + "1"
        #expect(TestSchema.decodeError(#"{"fDouble":\#(zeros)}"#, as: "agentplane.test.v1.Scalars") == nil)
    }

    @Test func stringsCanBeBounded() {
        let limits = ProtoJSONLimits(maxStringBytes: 8)
        #expect(
            TestSchema.decodeError(#"{"fString":"12345678"}"#, as: "agentplane.test.v1.Scalars", limits: limits) == nil)
        let error = TestSchema.decodeError(
            #"{"fString":"123456789"}"#, as: "agentplane.test.v1.Scalars", limits: limits)
        #expect(error?.path == "fString")
        #expect(error?.reason.contains("longer than 8 bytes") == true)
        // Escapes count as what they stand for; keys count too.
        #expect(
            TestSchema.decodeError(
                #"{"fString":"\u00e9\u00e9\u00e9\u00e9"}"#, as: "agentplane.test.v1.Scalars", limits: limits) == nil)
        #expect(
            TestSchema.decodeError(
                #"{"stringToString":{"123456789":""}}"#, as: "agentplane.test.v1.Maps", limits: limits) != nil)
        #expect(ProtoJSONLimits.defaults == ProtoJSONLimits(maxDepth: 64, maxNumberLength: 128, maxStringBytes: nil))
    }
}
