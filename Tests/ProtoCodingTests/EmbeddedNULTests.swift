import FoundationEssentials
import ProtoCoding
import RPCCore
import RPCModels
import TestModels
import Testing

@Suite("A string holding a NUL byte is refused, naming the field; bytes may hold zeros")
struct EmbeddedNULTests {
    /// A length-delimited field: tag, length, payload (short payloads only).
    private func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] {
        precondition(number < 16 && payload.count < 128)
        return [number << 3 | 2, UInt8(payload.count)] + payload
    }

    private func nulError<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> ProtoDecodingError? {
        do {
            _ = try M(serializedBytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    private let abcNULdef: [UInt8] = Array("abc".utf8) + [0] + Array("def".utf8)

    @Test func topLevelString() {
        let error = nulError(Agentplane_Test_V1_Scalars.self, field(14, abcNULdef))
        #expect(error?.code == .embeddedNUL)
        #expect(error?.message == "agentplane.test.v1.Scalars.f_string contains a NUL byte")
        // A NUL first, a NUL last.
        #expect(
            nulError(Agentplane_Test_V1_Scalars.self, field(14, [0] + Array("anything".utf8)))?.code == .embeddedNUL)
        #expect(nulError(Agentplane_Test_V1_Scalars.self, field(14, Array("x".utf8) + [0]))?.code == .embeddedNUL)
    }

    @Test func encodingNeverCutsAStringAtANUL() throws {
        // protobuf-c packs C strings: a U+0000 is written as U+FFFD, and what follows survives.
        var message = Agentplane_Test_V1_Scalars()
        message.fString = "abc\u{0}def\u{0}"
        let decoded = try Agentplane_Test_V1_Scalars(serializedBytes: message.serializedBytes())
        #expect(decoded.fString == "abc\u{FFFD}def\u{FFFD}")
        var plain = Agentplane_Test_V1_Scalars()
        plain.fString = "no nul here"
        #expect(try Agentplane_Test_V1_Scalars(serializedBytes: plain.serializedBytes()).fString == "no nul here")
    }

    @Test func stringInANestedMessage() {
        // Outer.inner (1) → Inner.name (2).
        let error = nulError(Agentplane_Test_V1_Outer.self, field(1, field(2, abcNULdef)))
        #expect(error?.message == "agentplane.test.v1.Outer.inner.name contains a NUL byte")
        // Choice.nested (7) → Choice.nested (7) → Choice.text (2), a oneof member two levels down.
        let deep = nulError(Agentplane_Test_V1_Choice.self, field(7, field(7, field(2, abcNULdef))))
        #expect(deep?.message == "agentplane.test.v1.Choice.nested.nested.text contains a NUL byte")
    }

    @Test func mapKeysAndValues() {
        // Maps.string_to_string (1): entry key (1), value (2).
        let key = nulError(Agentplane_Test_V1_Maps.self, field(1, field(1, [0x6B, 0]) + field(2, [0x76])))
        #expect(key?.message == "agentplane.test.v1.Maps.string_to_string.key contains a NUL byte")
        let value = nulError(Agentplane_Test_V1_Maps.self, field(1, field(1, [0x6B]) + field(2, [0, 0x76])))
        #expect(value?.message == "agentplane.test.v1.Maps.string_to_string.value contains a NUL byte")
        // Outer.by_name (4): a message value whose string holds the NUL.
        let inner = nulError(Agentplane_Test_V1_Outer.self, field(4, field(1, [0x6B]) + field(2, field(2, abcNULdef))))
        #expect(inner?.message == "agentplane.test.v1.Outer.by_name.value.name contains a NUL byte")
    }

    @Test func repeatedStrings() {
        // Repeated.r_string (14): the second element holds the NUL.
        let error = nulError(Agentplane_Test_V1_Repeated.self, field(14, [0x61]) + field(14, [0x62, 0]))
        #expect(error?.message == "agentplane.test.v1.Repeated.r_string contains a NUL byte")
    }

    @Test func structValues() {
        // WellKnown.data (3) → Struct.fields (1) entry → value (2) → Value.string_value (3).
        let bytes = field(3, field(1, field(1, [0x6B]) + field(2, field(3, abcNULdef))))
        let error = nulError(Agentplane_Test_V1_WellKnown.self, bytes)
        #expect(error?.message == "agentplane.test.v1.WellKnown.data.fields.value.string_value contains a NUL byte")
    }

    @Test func zeroBytesOutsideStringsStillDecode() throws {
        // Bytes full of zeros, a double 0.0 sent explicitly, an empty string: all fine.
        var bytes = field(15, [0, 0, 0, 0])
        bytes += [0x09, 0, 0, 0, 0, 0, 0, 0, 0]
        bytes += [0x72, 0x00]
        let scalars = try Agentplane_Test_V1_Scalars(serializedBytes: bytes)
        #expect(scalars.fBytes == Data([0, 0, 0, 0]))
        #expect(scalars.fDouble == 0)
        // Zeros everywhere but in strings: empty nested messages, zero varints, repeated empty
        // strings, a map value of bytes full of zeros.
        var repeated: [UInt8] = [0x8A, 0x01, 0x00]  // r_message (17): one empty Scalars
        repeated += [0x18, 0x00]
        repeated += field(14, []) + field(14, [0x61])
        let decoded = try Agentplane_Test_V1_Repeated(serializedBytes: repeated)
        #expect(decoded.rString == ["", "a"])
        #expect(decoded.rMessage == [Agentplane_Test_V1_Scalars()])
        let maps = try Agentplane_Test_V1_Maps(serializedBytes: field(3, [0x08, 0x00] + field(2, [0, 0])))
        #expect(maps.uint64ToBytes == [0: Data([0, 0])])
    }

    @Test func theCorpusRoundTripsUnchanged() throws {
        // Every sample of the shared corpus (zeros in doubles, bytes, empty messages) still decodes.
        for sample in CodecCorpus.samples {
            #expect(try sample.message.decodesEqual(sample.message.encoded()), "\(sample.name)")
        }
    }

    @Test func aContractRequestBecomesInvalidArgumentNamingTheField() {
        let bytes = field(1, Array("3f1c2a".utf8) + [0] + Array("junk".utf8))
        let error = #expect(throws: RPCError.self) {
            try Agentplane_V1_AgentService.Method.GetAgent.decodeRequest(bytes)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message == "agentplane.v1.GetAgentRequest.agent_id contains a NUL byte")
        // The value is not repeated.
        #expect(error?.message.contains("junk") == false)
    }
}
