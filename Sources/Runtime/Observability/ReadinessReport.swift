/// Whether a service should receive traffic now, and the state of each thing it depends on,
/// as `/readyz` reports it.
public struct ReadinessReport: Sendable, Hashable {
    /// Whether the service is ready; `/readyz` answers 200 if so, else 503.
    public var ready: Bool
    /// Each dependency or condition with a short state, e.g. `"postgres": "ok"`,
    /// `"redis": "down: connection refused"`, `"draining": "yes"`.
    public var checks: [String: String]

    /// A report.
    public init(ready: Bool, checks: [String: String] = [:]) {
        self.ready = ready
        self.checks = checks
    }

    /// Ready, with no checks: for a service that depends on nothing.
    public static let ready = ReadinessReport(ready: true)

    /// `{"ready":true,"checks":{"postgres":"ok"}}`, keys sorted.
    var json: [UInt8] {
        var json = JSONText(capacity: 64)
        json.raw(ready ? "{\"ready\":true,\"checks\":{" : "{\"ready\":false,\"checks\":{")
        for (index, name) in checks.keys.sorted().enumerated() {
            if index > 0 { json.raw(UInt8(ascii: ",")) }
            json.key(name)
            json.string(checks[name]!)
        }
        json.raw("}}\n")
        return json.bytes
    }
}
