import Testing

@testable import Edge

@Suite("multipart/form-data read as it streams")
struct MultipartParserTests {
    private let body = Array(
        ("preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\nfaq\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.md\"\r\nContent-Type: text/markdown\r\n\r\n"
            + "# Title\r\n--XyNot-a-delimiter\r\n-XyZ\r\nend\r\n--XyZ--\r\nepilogue").utf8)

    /// Feeds `body` in pieces of `size` and gathers the parts.
    private func parts(_ body: [UInt8], size: Int) throws -> [(start: MultipartParser.Event, bytes: [UInt8])] {
        var parser = try MultipartParser(boundary: "XyZ")
        var parts: [(start: MultipartParser.Event, bytes: [UInt8])] = []
        var index = 0
        while index < body.count {
            let piece = body[index..<min(body.count, index + size)]
            index += size
            for event in try parser.feed(piece) {
                switch event {
                case .partStarted: parts.append((event, []))
                case .data(let bytes): parts[parts.count - 1].bytes += bytes
                case .partEnded: break
                }
            }
        }
        try parser.finish()
        return parts
    }

    @Test(arguments: [1, 2, 3, 7, 16, 1000])
    func thePartsWhateverTheChunking(size: Int) throws {
        let found = try parts(body, size: size)
        #expect(found.count == 2)
        #expect(found[0].start == .partStarted(name: "tags", fileName: nil, contentType: nil))
        #expect(found[0].bytes == Array("faq".utf8))
        #expect(found[1].start == .partStarted(name: "file", fileName: "a b.md", contentType: "text/markdown"))
        #expect(String(decoding: found[1].bytes, as: UTF8.self) == "# Title\r\n--XyNot-a-delimiter\r\n-XyZ\r\nend")
    }

    @Test func malformedBodiesAreRefused() throws {
        // No closing delimiter.
        var open = try MultipartParser(boundary: "XyZ")
        _ = try open.feed(Array("--XyZ\r\n\r\nabc".utf8))
        #expect(throws: MultipartParser.Failure.self) { try open.finish() }
        // Garbage after a delimiter.
        var garbage = try MultipartParser(boundary: "XyZ")
        #expect(throws: MultipartParser.Failure.self) { _ = try garbage.feed(Array("--XyZxx".utf8)) }
        // Headers that never end.
        var endless = try MultipartParser(boundary: "XyZ")
        #expect(throws: MultipartParser.Failure.self) {
            _ = try endless.feed(Array(("--XyZ\r\nX: " + String(repeating: "h", count: 9000)).utf8))
        }
        #expect(throws: MultipartParser.Failure.self) { _ = try MultipartParser(boundary: "") }
        #expect(throws: MultipartParser.Failure.self) {
            _ = try MultipartParser(boundary: String(repeating: "b", count: 71))
        }
        #expect(MultipartParser.boundary(of: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(MultipartParser.boundary(of: "multipart/form-data; charset=utf-8; boundary=zz") == "zz")
        #expect(MultipartParser.boundary(of: "multipart/form-data") == nil)
    }
}
