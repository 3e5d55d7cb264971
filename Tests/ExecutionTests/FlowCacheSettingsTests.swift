import Execution
import RuntimeConfig
import Testing

@Suite("Execution: the flow cache's bound is a key checked at its limits")
struct FlowCacheSettingsTests {
    static func read(_ value: String?) -> (ExecutionSettings, ConfigurationError?) {
        var reader = ConfigReader(environment: value.map { ["EXECUTION_FLOW_CACHE_BYTES": $0] } ?? [:], arguments: [])
        let settings = ExecutionSettings.read(&reader)
        do {
            try reader.validate()
            return (settings, nil)
        } catch {
            return (settings, error)
        }
    }

    @Test func defaultZeroAndTheMaximumAreTakenAndPastThemRefused() {
        #expect(Self.read(nil).0.flowCacheBytes == 16 << 20)
        #expect(Self.read("0").0.flowCacheBytes == 0)
        #expect(Self.read("1073741824").0.flowCacheBytes == 1 << 30)
        for bad in ["-1", "1073741825", "99999999999999999999", "1\u{0}", "big"] {
            let error = Self.read(bad).1
            #expect(error != nil, "\(bad) was accepted")
            #expect("\(error.map { "\($0)" } ?? "")".contains("EXECUTION_FLOW_CACHE_BYTES"))
        }
    }
}
