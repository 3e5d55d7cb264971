import Foundation
import TestModels
import Testing

/// Google's Python protobuf package is the independent implementation we compare against.
@Suite("Byte compatibility with Python's protobuf")
struct PythonCompatibilityTests {
    @Test func swiftAndPythonDecodeEachOthersBytes() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("codec-compat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let swiftDir = work.appendingPathComponent("swift")
        try FileManager.default.createDirectory(at: swiftDir, withIntermediateDirectories: true)
        for sample in CodecCorpus.samples {
            try Data(sample.message.encoded()).write(to: swiftDir.appendingPathComponent(sample.name + ".bin"))
        }

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", root.appendingPathComponent("Tests/Interop/codec_compat.py").path, root.path, work.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")

        for sample in CodecCorpus.samples {
            let bytes = try Data(contentsOf: work.appendingPathComponent("python/\(sample.name).bin"))
            #expect(
                try sample.message.decodesEqual([UInt8](bytes)), "Python's \(sample.name) decodes differently in Swift")
        }
    }
}
