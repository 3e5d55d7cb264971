import BenchmarkSupport
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The RPC histograms' sums and counts of every service, read from their admin ports' /metrics
/// (docs/OBSERVABILITY.md), so that two readings taken around some messages tell how much time
/// each service spent in each method for them.
struct MetricsScraper: Sendable {
    /// One histogram series: the service, `server` or `client` side, and the gRPC method.
    struct Series: Hashable, Sendable, Comparable {
        let service: String
        let side: String
        let method: String

        static func < (a: Series, b: Series) -> Bool {
            (a.service, a.side, a.method) < (b.service, b.side, b.method)
        }
    }

    /// Seconds spent and calls made, summed over a service's replicas.
    struct Totals: Sendable {
        var seconds = 0.0
        var calls = 0.0
    }

    /// Admin ports per service name.
    let services: [(service: String, ports: [Int])]

    /// Reads every service's /metrics now; a replica that does not answer is left out (and said).
    func snapshot() async -> [Series: Totals] {
        var result: [Series: Totals] = [:]
        for (service, ports) in services {
            for port in ports {
                guard let text = await fetch(port: port) else {
                    progress("/metrics of \(service) on port \(port) did not answer")
                    continue
                }
                for (key, value) in Self.parse(text, service: service) {
                    result[key, default: Totals()].seconds += value.seconds
                    result[key, default: Totals()].calls += value.calls
                }
            }
        }
        return result
    }

    /// The `rpc_{server,client}_duration_seconds` `_sum` and `_count` lines of a Prometheus text
    /// exposition.
    static func parse(_ text: String, service: String) -> [Series: Totals] {
        var result: [Series: Totals] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("rpc_") {
            let side: String
            if line.hasPrefix("rpc_server_duration_seconds_") {
                side = "server"
            } else if line.hasPrefix("rpc_client_duration_seconds_") {
                side = "client"
            } else {
                continue
            }
            let isSum = line.contains("_seconds_sum{")
            guard isSum || line.contains("_seconds_count{"),
                let methodStart = line.range(of: "method=\""),
                let methodEnd = line[methodStart.upperBound...].firstIndex(of: "\""),
                let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else { continue }
            let key = Series(service: service, side: side, method: String(line[methodStart.upperBound..<methodEnd]))
            if isSum {
                result[key, default: Totals()].seconds += value
            } else {
                result[key, default: Totals()].calls += value
            }
        }
        return result
    }

    /// The body of `GET http://127.0.0.1:<port>/metrics`, or nil.
    private func fetch(port: Int) async -> String? {
        guard let url = URL(string: "http://127.0.0.1:\(port)/metrics") else { return nil }
        var request = URLRequest(url: url)
        request.timeoutInterval = 10
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            (response as? HTTPURLResponse)?.statusCode == 200
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
