// Drives the codec with valid, broken and random input so AddressSanitizer (and its leak
// checker) can watch protobuf-c and the generated conversions. `make test` builds only this
// and the codec with --sanitize=address. Exits non-zero on any unexpected outcome.
import ProtoCoding
import TestModels

/// The whole run; its counters live here rather than in main-actor globals.
struct CodecFuzz {
    var failures = 0
    var decoded = 0
    var rejected = 0
    var state: UInt64 = 0x5EED

    mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition {
            failures += 1
            print("codec-fuzz: FAIL \(message())")
        }
    }

    mutating func attempt(_ sample: CodecCorpus.Sample, _ bytes: [UInt8]) {
        do {
            _ = try sample.message.decodesEqual(bytes)
            decoded += 1
        } catch {
            rejected += 1
        }
    }

    mutating func nextRandom() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func run() {
        // Valid input: every sample round-trips.
        for sample in CodecCorpus.samples {
            check((try? sample.message.decodesEqual(sample.message.encoded())) == true, "round trip of \(sample.name)")
        }

        // Broken input: prefixes and single-byte corruptions of every sample.
        for sample in CodecCorpus.samples {
            let bytes = sample.message.encoded()
            let step = max(1, bytes.count / 500)
            for length in stride(from: 0, to: bytes.count, by: step) { attempt(sample, Array(bytes.prefix(length))) }
            for index in stride(from: 0, to: bytes.count, by: step) {
                var corrupted = bytes
                corrupted[index] ^= 0xA5
                attempt(sample, corrupted)
            }
        }

        // Random input from many seeds, decoded as every sample's type.
        for _ in 0..<20_000 {
            let count = Int(nextRandom() % 300)
            var bytes: [UInt8] = []
            for _ in 0..<count { bytes.append(UInt8(truncatingIfNeeded: nextRandom())) }
            for sample in CodecCorpus.samples { attempt(sample, bytes) }
        }

        // Nesting far past the limit is refused before protobuf-c recurses.
        var deep: [UInt8] = []
        for _ in 0..<10_000 {
            var length = UInt64(deep.count)
            var prefix: [UInt8] = [0x0A]
            repeat {
                prefix.append(UInt8(length & 0x7F) | (length > 0x7F ? 0x80 : 0))
                length >>= 7
            } while length > 0
            deep = prefix + deep
        }
        do {
            _ = try Agentplane_Test_V1_Node(serializedBytes: deep)
            check(false, "10,000-deep nesting decoded")
        } catch {
            check(error.code == .tooDeep, "10,000-deep nesting gave \(error)")
        }

        print("codec-fuzz: \(decoded) decoded, \(rejected) rejected with a typed error, \(failures) failures")
    }
}

var fuzz = CodecFuzz()
fuzz.run()
if fuzz.failures > 0 { fatalError("codec-fuzz found \(fuzz.failures) failures") }
