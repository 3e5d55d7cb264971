import FoundationEssentials
import ProtoCoding
import ProtoJSON
import RPCModels
import TestModels
import Testing

@Suite("Wire bytes → JSON → wire bytes gives the same message")
struct RoundTripTests {
    private let schema = TestSchema.shared

    private func roundTrip(_ message: AnyMessage) throws {
        let json = try schema.encode(wire: message.encoded(), as: message.typeName)
        let wire = try schema.decode(json: json, as: message.typeName)
        #expect(
            try message.decodesEqual(wire), "\(message.typeName): \(String(decoding: json.prefix(400), as: UTF8.self))")
        // Our own output decodes to bytes that encode to the same JSON again.
        #expect(try schema.encode(wire: wire, as: message.typeName) == json)
    }

    @Test("every codec corpus sample", arguments: CodecCorpus.samples.map(\.name))
    func codecCorpusSample(name: String) throws {
        try roundTrip(AnyMessage(box: try #require(CodecCorpus.samples.first { $0.name == name }).message))
    }

    @Test("contract messages", arguments: ContractSamples.samples.map(\.name))
    func contractSample(name: String) throws {
        try roundTrip(try #require(ContractSamples.samples.first { $0.name == name }).message)
    }

    @Test func everyExecutionEventPayload() throws {
        let payloads: [Agentplane_V1_ExecutionEvent.OneOf_Payload] = [
            .runStarted(Agentplane_V1_RunStarted(agentID: "a", agentVersion: 3)),
            .nodeStarted(Agentplane_V1_NodeStarted(nodeID: "n", nodeKind: "llm", step: 1)),
            .answerDelta(Agentplane_V1_AnswerDelta()),
            .toolCall(Agentplane_V1_ToolCall()),
            .toolResult(Agentplane_V1_ToolResult()),
            .interrupt(Agentplane_V1_Interrupt()),
            .runResumed(Agentplane_V1_RunResumed()),
            .runFinished(Agentplane_V1_RunFinished()),
            .runFailed(Agentplane_V1_RunFailed()),
            .runCancelled(Agentplane_V1_RunCancelled()),
        ]
        for payload in payloads {
            let event = Agentplane_V1_ExecutionEvent(runID: "r", sequence: 1, payload: payload)
            let json = try TestSchema.json(event)
            #expect(try TestSchema.message(json, as: Agentplane_V1_ExecutionEvent.self) == event, "\(json)")
        }
    }

    @Test func extremeScalars() throws {
        let extremes = [
            Agentplane_Test_V1_Scalars(
                fDouble: .leastNonzeroMagnitude, fFloat: .leastNonzeroMagnitude, fInt32: .min, fInt64: .min,
                fSint32: .min, fSint64: .min, fSfixed32: .min, fSfixed64: .min),
            Agentplane_Test_V1_Scalars(
                fDouble: -.greatestFiniteMagnitude, fFloat: .greatestFiniteMagnitude, fInt32: .max, fInt64: .max,
                fUint32: .max, fUint64: .max, fFixed32: .max, fFixed64: .max),
            // (The generated types cannot hold a NUL in a string: protobuf-c's strings are C strings.)
            Agentplane_Test_V1_Scalars(fDouble: 0.1, fFloat: 0.1, fString: "\u{1}\u{1F}\u{7F}\u{2028}\u{FFFF}"),
            Agentplane_Test_V1_Scalars(fDouble: 1e300, fFloat: Float(bitPattern: 1), fBytes: Data(0...255)),
        ]
        for message in extremes { try roundTrip(AnyMessage(message)) }
    }

    @Test func controlCharactersAndNULAreEscaped() throws {
        let json = Array(#"{"fString":"a\u0000b\u001f\"\\/\b\f\n\r\t\u00e9"}"#.utf8)
        let wire = try schema.decode(json: json, as: "agentplane.test.v1.Scalars")
        #expect(
            wire == [0x72, 0x0E, 0x61, 0x00, 0x62, 0x1F, 0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09, 0xC3, 0xA9])
        let text = String(decoding: try schema.encode(wire: wire, as: "agentplane.test.v1.Scalars"), as: UTF8.self)
        #expect(text.contains(#""fString":"a\u0000b\u001f\"\\/\b\f\n\r\té""#), "\(text)")
    }

    @Test func nanAndNegativeZeroKeepTheirBits() throws {
        let message = Agentplane_Test_V1_Repeated(rDouble: [.nan, -0.0, .infinity], rFloat: [.nan, -0.0, -.infinity])
        let json = try TestSchema.json(message)
        #expect(json.contains("\"rDouble\":[\"NaN\",-0.0,\"Infinity\"]"), "\(json)")
        let decoded = try TestSchema.message(json, as: Agentplane_Test_V1_Repeated.self)
        #expect(decoded.rDouble[0].isNaN && decoded.rFloat[0].isNaN)
        #expect(decoded.rDouble[1].sign == .minus && decoded.rDouble[1] == 0)
        #expect(decoded.rFloat[1].sign == .minus && decoded.rFloat[1] == 0)
        #expect(decoded.rFloat[2] == -.infinity)
    }

    @Test func wireBytesOfOurDecoderAreDeterministic() throws {
        // Map entries by key, fields by number: the same JSON always gives the same bytes, whatever
        // order its members come in.
        let forward = #"{"stringToString":{"b":"2","a":"1"},"int32ToInt64":{"-1":"5","3":"4"}}"#
        let backward = #"{"int32ToInt64":{"3":"4","-1":"5"},"stringToString":{"a":"1","b":"2"}}"#
        let first = try schema.decode(json: Array(forward.utf8), as: "agentplane.test.v1.Maps")
        #expect(first == (try schema.decode(json: Array(backward.utf8), as: "agentplane.test.v1.Maps")))
        #expect(
            first == [
                0x0A, 0x06, 0x0A, 0x01, 0x61, 0x12, 0x01, 0x31, 0x0A, 0x06, 0x0A, 0x01, 0x62, 0x12, 0x01, 0x32,
                0x12, 0x0D, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x10, 0x05,
                0x12, 0x04, 0x08, 0x03, 0x10, 0x04,
            ])
    }

    @Test func unpackedAndPackedRepeatedScalarsBothRead() throws {
        // r_int32 (3) packed, then two more unpacked; r_unpacked (18) packed although declared unpacked.
        let wire: [UInt8] = [0x1A, 0x02, 0x01, 0x02, 0x18, 0x03, 0x18, 0x04, 0x92, 0x01, 0x02, 0x07, 0x08]
        let json = try schema.encode(wire: wire, as: "agentplane.test.v1.Repeated")
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"rInt32\":[1,2,3,4]"), "\(text)")
        #expect(text.contains("\"rUnpacked\":[7,8]"), "\(text)")
    }

    @Test func lastValueWinsAndMessagesMerge() throws {
        // f_int32 = 1 then 2; before = "x" then a oneof member; choice.scalars given twice (merged).
        let scalars: [UInt8] = [0x18, 0x01, 0x18, 0x02]
        #expect(
            String(decoding: try schema.encode(wire: scalars, as: "agentplane.test.v1.Scalars"), as: UTF8.self)
                .contains("\"fInt32\":2"))
        let choice: [UInt8] = [0x22, 0x02, 0x18, 0x05, 0x22, 0x02, 0x68, 0x01]
        let text = String(decoding: try schema.encode(wire: choice, as: "agentplane.test.v1.Choice"), as: UTF8.self)
        #expect(
            text.contains("\"scalars\":{") && text.contains("\"fInt32\":5") && text.contains("\"fBool\":true"),
            "\(text)")
        // A later oneof member replaces an earlier one.
        let replaced: [UInt8] = [0x12, 0x01, 0x61, 0x18, 0x07]
        #expect(
            String(decoding: try schema.encode(wire: replaced, as: "agentplane.test.v1.Choice"), as: UTF8.self)
                == #"{"before":"","number":"7","after":""}"#)
    }

    @Test func unknownWireFieldsAreSkipped() throws {
        // Field 99 as varint, fixed64, bytes, a group and fixed32, then f_int32 = 3.
        let wire: [UInt8] = [
            0x98, 0x06, 0x01, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9A, 0x06, 0x01, 0xFF, 0x9B, 0x06, 0x08, 0x01, 0x9C,
            0x06, 0x9D, 0x06, 1, 2, 3, 4, 0x18, 0x03,
        ]
        let text = String(decoding: try schema.encode(wire: wire, as: "agentplane.test.v1.Scalars"), as: UTF8.self)
        #expect(text.contains("\"fInt32\":3"), "\(text)")
    }
}
