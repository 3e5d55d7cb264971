import ProtoCoding
import TestModels
import Testing

@Suite("Bad input gives a typed error, never a crash")
struct BadInputTests {
    private func decodeError(_ bytes: [UInt8]) -> ProtoDecodingError? {
        do {
            _ = try Agentplane_Test_V1_Scalars(serializedBytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func truncatedBuffers() {
        for sample in CodecCorpus.samples {
            let bytes = sample.message.encoded()
            guard !bytes.isEmpty else { continue }
            // Cutting the last byte always breaks the last field.
            #expect(throws: ProtoDecodingError.self, "\(sample.name)") {
                _ = try sample.message.decodesEqual(Array(bytes.dropLast()))
            }
            // Every other cut either decodes (it fell on a field boundary) or throws the typed error.
            for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
                do { _ = try sample.message.decodesEqual(Array(bytes.prefix(length))) } catch {
                    #expect(error is ProtoDecodingError)
                }
            }
        }
    }

    @Test func wrongWireTypes() {
        // Field 3 (int32) sent length-delimited; field 14 (string) sent as a varint.
        #expect(decodeError([0x1A, 0x01, 0x00])?.code == .malformed)
        #expect(decodeError([0x70, 0x01])?.code == .malformed)
        // Field 1 (double) sent as fixed32.
        #expect(decodeError([0x0D, 0, 0, 0, 0])?.code == .malformed)
    }

    @Test func invalidUTF8InStrings() throws {
        #expect(decodeError([0x72, 0x02, 0xC3, 0x28])?.code == .invalidUTF8)
        #expect(decodeError([0x72, 0x01, 0xFF])?.code == .invalidUTF8)
        // A lone surrogate encoded in UTF-8 (CESU style) is not valid UTF-8 either.
        #expect(decodeError([0x72, 0x03, 0xED, 0xA0, 0x80])?.code == .invalidUTF8)
        // In a repeated string, a map key and a oneof member too.
        let repeated = #expect(throws: ProtoDecodingError.self) {
            try Agentplane_Test_V1_Repeated(serializedBytes: [0x72, 0x01, 0x80])
        }
        #expect(repeated?.code == .invalidUTF8)
        let mapKey = #expect(throws: ProtoDecodingError.self) {
            try Agentplane_Test_V1_Maps(serializedBytes: [0x0A, 0x03, 0x0A, 0x01, 0xC0])
        }
        #expect(mapKey?.code == .invalidUTF8)
        let oneof = #expect(throws: ProtoDecodingError.self) {
            try Agentplane_Test_V1_Choice(serializedBytes: [0x12, 0x01, 0xFE])
        }
        #expect(oneof?.code == .invalidUTF8)
    }

    @Test func overlongVarints() {
        // Eleven bytes of varint: one more than any 64-bit value needs.
        #expect(decodeError([0x18] + [UInt8](repeating: 0xFF, count: 10) + [0x01])?.code == .malformed)
        // A varint that never ends.
        #expect(decodeError([0x18, 0xFF, 0xFF])?.code == .malformed)
        // An overlong tag.
        #expect(decodeError([UInt8](repeating: 0x80, count: 11) + [0x00])?.code == .malformed)
    }

    @Test func lengthsPastTheBuffer() {
        #expect(decodeError([0x72, 0x05, 0x61])?.code == .malformed)
        #expect(decodeError([0x7A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00])?.code == .malformed)
        let message = #expect(throws: ProtoDecodingError.self) {
            try Agentplane_Test_V1_Repeated(serializedBytes: [0x8A, 0x01, 0x10, 0x18])
        }
        #expect(message?.code == .malformed)
    }

    @Test func fieldNumberZeroIsRejected() {
        #expect(decodeError([0x00, 0x01])?.code == .malformed)
    }

    @Test func deepNestingIsRefusedBeforeProtobufCRecurses() {
        // 100,000 nested Node.child fields would overflow protobuf-c's recursive unpacker.
        var bytes: [UInt8] = []
        for _ in 0..<100_000 {
            var length = UInt64(bytes.count)
            var prefix: [UInt8] = [0x0A]
            repeat {
                prefix.append(UInt8(length & 0x7F) | (length > 0x7F ? 0x80 : 0))
                length >>= 7
            } while length > 0
            bytes = prefix + bytes
        }
        let error = #expect(throws: ProtoDecodingError.self) {
            try Agentplane_Test_V1_Node(serializedBytes: bytes)
        }
        #expect(error?.code == .tooDeep)
    }

    @Test func randomBytesFromManySeeds() {
        var rejected = 0
        for seed in 0..<3_000 {
            var random = SplitMix64(seed: UInt64(seed))
            let bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            for sample in CodecCorpus.samples {
                do { _ = try sample.message.decodesEqual(bytes) } catch {
                    #expect(error is ProtoDecodingError)
                    rejected += 1
                }
            }
        }
        #expect(rejected > 10_000)
    }
}

/// A small deterministic generator, so a failing seed can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
