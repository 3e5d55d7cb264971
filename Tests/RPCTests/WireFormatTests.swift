import RPCCore
import Testing

@Suite("gRPC header formats")
struct WireFormatTests {
    @Test func timeoutsRoundTripAndRoundUp() {
        #expect(WireFormats.encodeTimeout(.milliseconds(1)) == "1000000n")
        #expect(WireFormats.decodeTimeout("1000000n") == .milliseconds(1))
        #expect(WireFormats.decodeTimeout("5S") == .seconds(5))
        #expect(WireFormats.decodeTimeout("2H") == .seconds(7200))
        #expect(WireFormats.decodeTimeout("123456789S") == nil)
        #expect(WireFormats.decodeTimeout("10x") == nil)
        #expect(WireFormats.decodeTimeout("S") == nil)
        let long = WireFormats.encodeTimeout(.seconds(1_000_000))
        #expect(long.count <= 9)
        #expect(WireFormats.decodeTimeout(long).map { $0 >= .seconds(1_000_000) } == true)
    }

    @Test func statusMessagesArePercentEncoded() {
        let message = "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n"
        let encoded = WireFormats.percentEncode(message)
        #expect(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        #expect(WireFormats.percentDecode(encoded) == message)
        #expect(WireFormats.percentEncode("100%") == "100%25")
        #expect(WireFormats.percentDecode("bad %zz escape %4") == "bad %zz escape %4")
    }

    @Test func binaryMetadataIsBase64() {
        for bytes: [UInt8] in [[], [0xAB], [0xAB, 0xAB], [0xAB, 0xAB, 0xAB], Array(0...255)] {
            let text = WireFormats.base64Encode(bytes)
            #expect(!text.contains("="))
            #expect(WireFormats.base64Decode(text) == bytes)
        }
        #expect(WireFormats.base64Decode("q6ur") == [0xAB, 0xAB, 0xAB])
        #expect(WireFormats.base64Decode("qw==") == [0xAB])
        #expect(WireFormats.base64Decode("not base64!") == nil)
    }

    @Test func metadataKeepsOrderAndSeparatesBinary() {
        var metadata: Metadata = ["b": "2", "a": "1"]
        metadata.addString("3", forKey: "B")
        metadata.addBinary([1, 2], forKey: "x-bin")
        #expect(metadata[stringValues: "b"] == ["2", "3"])
        #expect(metadata[binaryValues: "x-bin"] == [[1, 2]])
        #expect(metadata.map(\.key) == ["b", "a", "b", "x-bin"])
    }
}
