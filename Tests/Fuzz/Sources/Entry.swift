import Foundation

#if AGENTPLANE_LIBFUZZER
    /// libFuzzer's entry point: built with `-sanitize=fuzzer`, libFuzzer supplies `main`.
    nonisolated(unsafe) private var selectedTarget: FuzzTarget?

    /// Runs one input through the selected target; libFuzzer calls it.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        let target = selectedTarget ?? FuzzTarget.fromEnvironment()
        selectedTarget = target
        target.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count))
        return 0
    }
#else
    /// Without libFuzzer (an ordinary `swift build`): replays saved inputs, e.g.
    /// `AGENTPLANE_FUZZ_TARGET=flow agentplane-fuzz Tests/Fuzz/Corpus/flow`.
    @main
    enum Replay {
        static func main() throws {
            let target = FuzzTarget.fromEnvironment()
            var count = 0
            for argument in CommandLine.arguments.dropFirst() {
                let url = URL(fileURLWithPath: argument)
                let files =
                    (try? FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)) ?? [url]
                for file in files.sorted(by: { $0.path < $1.path }) where !file.lastPathComponent.hasPrefix(".") {
                    let bytes = try Data(contentsOf: file)
                    bytes.withUnsafeBytes { target.run($0) }
                    count += 1
                }
            }
            print("replayed \(count) inputs through \(target.rawValue)")
        }
    }
#endif
