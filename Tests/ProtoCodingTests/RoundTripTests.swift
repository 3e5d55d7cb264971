import Foundation
import ProtoCoding
import RPCModels
import TestModels
import Testing

@Suite("Round trips through protobuf-c")
struct RoundTripTests {
    @Test("every corpus sample decodes to an equal value", arguments: CodecCorpus.samples.map(\.name))
    func corpusSample(name: String) throws {
        let sample = try #require(CodecCorpus.samples.first { $0.name == name })
        #expect(try sample.message.decodesEqual(sample.message.encoded()))
    }

    @Test func defaultMessageEncodesToNothing() {
        #expect(Agentplane_Test_V1_Scalars().serializedBytes().isEmpty)
        #expect(Agentplane_Test_V1_Repeated().serializedBytes().isEmpty)
        #expect(Agentplane_Test_V1_Nothing().serializedBytes().isEmpty)
        #expect(throws: Never.self) { try Agentplane_Test_V1_Nothing(serializedBytes: [UInt8]()) }
    }

    @Test func knownEncodingsMatchTheWireFormat() throws {
        // Field 3 (int32) = -1 is a 10-byte varint; field 7 (sint32) = -1 zigzags to 1.
        let message = Agentplane_Test_V1_Scalars(fInt32: -1, fSint32: -1, fString: "é")
        #expect(
            message.serializedBytes()
                == [
                    0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x38, 0x01, 0x72, 0x02, 0xC3,
                    0xA9,
                ])
        // Repeated scalars are packed in proto3: one tag, one length, the values.
        #expect(Agentplane_Test_V1_Repeated(rInt32: [1, 2, 3]).serializedBytes() == [0x1A, 0x03, 0x01, 0x02, 0x03])
        #expect(
            Agentplane_Test_V1_Repeated(rUnpacked: [1, 2]).serializedBytes() == [0x90, 0x01, 0x01, 0x90, 0x01, 0x02])
    }

    @Test func nanAndInfinitiesSurvive() throws {
        let decoded = try Agentplane_Test_V1_Scalars(
            serializedBytes: Agentplane_Test_V1_Scalars(fDouble: .nan, fFloat: -.nan).serializedBytes())
        #expect(decoded.fDouble.isNaN)
        #expect(decoded.fFloat.isNaN)
        let infinities = Agentplane_Test_V1_Repeated(
            rDouble: [.infinity, -.infinity], rFloat: [.infinity, -.infinity])
        #expect(try Agentplane_Test_V1_Repeated(serializedBytes: infinities.serializedBytes()) == infinities)
    }

    @Test func negativeZeroKeepsItsSign() throws {
        let decoded = try Agentplane_Test_V1_Repeated(
            serializedBytes: Agentplane_Test_V1_Repeated(rDouble: [-0.0]).serializedBytes())
        #expect(decoded.rDouble.first?.sign == .minus)
    }

    @Test func fourMebibytesOfBytes() throws {
        var bytes = Data(count: 4 * 1024 * 1024)
        for index in stride(from: 0, to: bytes.count, by: 4093) { bytes[index] = UInt8(index % 251) }
        let message = Agentplane_Test_V1_Scalars(fBytes: bytes)
        let decoded = try Agentplane_Test_V1_Scalars(serializedData: message.serializedData())
        #expect(decoded.fBytes == bytes)
    }

    @Test func tenThousandElementRepeatedFields() throws {
        let message = Agentplane_Test_V1_Repeated(
            rFloat: (0..<10_000).map { Float($0) }, rUint64: (0..<10_000).map { UInt64.max - UInt64($0) },
            rFixed32: (0..<10_000).map { UInt32($0) }, rBytes: (0..<10_000).map { Data([UInt8($0 % 256)]) })
        let decoded = try Agentplane_Test_V1_Repeated(serializedBytes: message.serializedBytes())
        #expect(decoded == message)
        #expect(decoded.rBytes.count == 10_000)
    }

    @Test func fiftyDeepNesting() throws {
        let decoded = try Agentplane_Test_V1_Node(serializedBytes: CodecCorpus.node(depth: 50).serializedBytes())
        var depth = 1
        var node = decoded
        while let child = node.child {
            depth += 1
            node = child
        }
        #expect(depth == 50)
        #expect(node.label == "leaf")
    }

    @Test func depthLimitIsOneHundred() throws {
        #expect(throws: Never.self) {
            try Agentplane_Test_V1_Node(serializedBytes: CodecCorpus.node(depth: 100).serializedBytes())
        }
        let error = #expect(throws: ProtoDecodingError.self) {
            try Agentplane_Test_V1_Node(serializedBytes: CodecCorpus.node(depth: 101).serializedBytes())
        }
        #expect(error?.code == .tooDeep)
    }

    @Test func oneofPresenceOfDefaultValues() throws {
        let empty = try Agentplane_Test_V1_Choice(
            serializedBytes: Agentplane_Test_V1_Choice(pick: .number(0)).serializedBytes())
        #expect(empty.pick == .number(0))
        #expect(
            try Agentplane_Test_V1_Choice(serializedBytes: Agentplane_Test_V1_Choice().serializedBytes()).pick == nil)
        var choice = Agentplane_Test_V1_Choice()
        choice.text = "set through the accessor"
        #expect(choice.pick == .text("set through the accessor"))
        #expect(choice.number == 0)
        choice.scalars = Agentplane_Test_V1_Scalars(fBool: true)
        #expect(choice.text == "")
        #expect(choice.scalars?.fBool == true)
    }

    @Test func unknownEnumValuesAreKept() throws {
        let decoded = try Agentplane_Test_V1_Scalars(
            serializedBytes: Agentplane_Test_V1_Scalars(fColor: .UNRECOGNIZED(-7)).serializedBytes())
        #expect(decoded.fColor == .UNRECOGNIZED(-7))
        #expect(Agentplane_Test_V1_Color(rawValue: -1) == .negative)
        #expect(Agentplane_Test_V1_Color.allCases.count == 5)
    }

    @Test func mapsKeepEmptyKeysAndLastDuplicateWins() throws {
        let decoded = try Agentplane_Test_V1_Maps(
            serializedBytes: Agentplane_Test_V1_Maps(stringToString: ["": ""]).serializedBytes())
        #expect(decoded.stringToString == ["": ""])
        // Two entries for key "k": the second one wins, as protobuf specifies.
        let entry1: [UInt8] = [0x0A, 0x06, 0x0A, 0x01, 0x6B, 0x12, 0x01, 0x31]
        let entry2: [UInt8] = [0x0A, 0x06, 0x0A, 0x01, 0x6B, 0x12, 0x01, 0x32]
        #expect(try Agentplane_Test_V1_Maps(serializedBytes: entry1 + entry2).stringToString == ["k": "2"])
    }

    @Test func fileDescriptorsAreEmbedded() {
        let names = AgentplaneProtoFiles.all.map(\.name)
        #expect(names.contains("agentplane/v1/control.proto"))
        #expect(names.contains("google/protobuf/timestamp.proto"))
        let control = AgentplaneProtoFiles.all.first { $0.name == "agentplane/v1/control.proto" }
        #expect(control?.symbols.contains("agentplane.v1.AgentService") == true)
        // A FileDescriptorProto starts with field 1 (name): tag 0x0A, then the length.
        #expect(control?.serializedDescriptor.first == 0x0A)
        #expect(
            Agentplane_V1_AgentService.Method.CreateAgent.descriptor.path == "/agentplane.v1.AgentService/CreateAgent")
    }
}
