import Foundation
import ProtoCoding
import ProtoJSON
import RPCModels
import TestModels
import Testing

/// Google's Python protobuf package (json_format) is the independent implementation we compare with.
@Suite("JSON compatibility with Python's protobuf")
struct PythonCompatibilityTests {
    /// The codec corpus — except that Python refuses the float -3.4028235e+38 it writes itself, so
    /// that sample's float is one in Python's range — and the contract samples.
    static var samples: [ContractSamples.Sample] {
        CodecCorpus.samples.map { sample in
            guard sample.name == "scalars_min" else {
                return ContractSamples.Sample(name: sample.name, message: sample.message)
            }
            return ContractSamples.Sample(
                name: "scalars_min",
                message: Agentplane_Test_V1_Scalars(
                    fDouble: -.infinity, fFloat: -1.5e38, fInt32: .min, fInt64: .min, fUint32: 1, fUint64: 1,
                    fSint32: .min, fSint64: .min, fFixed32: 1, fFixed64: 1, fSfixed32: .min, fSfixed64: .min,
                    fString: "x", fBytes: Data([0]), fColor: .negative))
        } + ContractSamples.samples
    }

    @Test func pythonReadsOurJSONAndWeReadPythons() throws {
        let schema = TestSchema.shared
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("json-compat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let descriptors = work.appendingPathComponent("descriptors")
        let swift = work.appendingPathComponent("swift")
        try FileManager.default.createDirectory(at: descriptors, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: swift, withIntermediateDirectories: true)
        for (index, file) in (AgentplaneProtoFiles.all + TestProtoFiles.all).enumerated() {
            let name = String(format: "%03d.bin", index)
            try Data(file.serializedDescriptor).write(to: descriptors.appendingPathComponent(name))
        }
        var ourBytes: [String: [UInt8]] = [:]
        for sample in Self.samples {
            let json = try schema.encode(wire: sample.message.encoded(), as: sample.message.typeName)
            let bytes = try schema.decode(json: json, as: sample.message.typeName)
            ourBytes[sample.name] = bytes
            try Data(sample.message.typeName.utf8).write(to: swift.appendingPathComponent(sample.name + ".type"))
            try Data(json).write(to: swift.appendingPathComponent(sample.name + ".json"))
            try Data(bytes).write(to: swift.appendingPathComponent(sample.name + ".bin"))
            try Data(sample.message.encoded()).write(to: swift.appendingPathComponent(sample.name + ".typed.bin"))
        }

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("Tests/Interop/json_compat.py").path, work.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")

        for sample in Self.samples {
            for suffix in [".json", ".proto_names.json"] {
                let python = try Data(contentsOf: work.appendingPathComponent("python/\(sample.name)\(suffix)"))
                let bytes = try schema.decode(json: [UInt8](python), as: sample.message.typeName)
                #expect(bytes == ourBytes[sample.name], "Python's \(sample.name)\(suffix) decodes to other bytes")
            }
        }
    }
}
