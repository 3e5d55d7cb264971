import Foundation

/// The fuzz targets of this executable (docs/FUZZING.md); `AGENTPLANE_FUZZ_TARGET` picks one.
enum FuzzTarget: String, CaseIterable {
    /// Raw bytes into a gRPC server connection (HTTP/2 by nghttp2, the interop test service).
    case http2
    /// The bytes after the first as a request message of the contract; the first picks the type.
    case decode
    /// Flow JSON through validation and compilation.
    case flow
    /// Router conditions: parsed, then evaluated over a small state.
    case expression
    /// JSON through the proto3 JSON mapping as a request message of the contract; the first byte
    /// picks the type.
    case json

    /// Runs one input; a crash, a trap or a sanitizer report is a finding.
    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .http2: HTTP2Target.shared.run(bytes)
        case .decode: DecodeTarget.run(bytes)
        case .flow: FlowTarget.run(bytes)
        case .expression: ExpressionTarget.run(bytes)
        case .json: JSONTarget.run(bytes)
        }
    }

    /// The target named by `AGENTPLANE_FUZZ_TARGET`.
    static func fromEnvironment() -> FuzzTarget {
        let name = getenv("AGENTPLANE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("AGENTPLANE_FUZZ_TARGET must be one of: \(names)\n".utf8))
            exit(2)
        }
        return target
    }
}
