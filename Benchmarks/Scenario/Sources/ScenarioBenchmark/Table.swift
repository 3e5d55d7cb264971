import BenchmarkSupport

/// The human-readable report on standard output.
extension ScenarioBenchmark {
    /// Prints the latency table, the profile and the errors.
    func printTable(_ results: Results) {
        print(
            "Scenario benchmark (\(results.label)): agent \(options.agent), \(results.cores) cores, \(results.cpu);"
                + " started \(results.startedAt)")
        print("KB path: \"\(results.kbQuestion)\"; ticket path: \"\(results.ticketQuestion)\"")
        print("times in ms as p50 / p99 / mean; first item = the first SendMessageResponse; final = end of stream")
        print(
            pad("conc", 5) + pad("path", 7) + pad("msgs", -6) + pad("err", -5) + "  " + pad("first item", 26)
                + pad("first answer delta", 28) + pad("final answer", 28) + pad("msg/s", -8) + "  load")
        for level in results.levels {
            for row in [level.all] + level.paths {
                print(
                    pad(String(level.concurrency), 5) + pad(row.path, 7) + pad(String(row.messages), -6)
                        + pad(String(row.errors), -5) + "  " + pad(triple(row.firstItem), 26)
                        + pad(triple(row.firstDelta), 28) + pad(triple(row.final), 28)
                        + pad(fixed(row.throughput, 1), -8) + "  "
                        + (row.path == "all" ? "\(fixed(level.loadStart, 2))→\(fixed(level.loadEnd, 2))" : ""))
            }
            print("     phases (mean ms): " + phaseLine(level.all.phases))
            print("     CPU ms per message: " + cpuLine(level.cpu))
            if !level.errorCodes.isEmpty {
                print(
                    "     errors: "
                        + level.errorCodes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(
                            separator: ", "))
            }
        }
        for profile in results.profile {
            print()
            print(
                "Where the time goes, \(profile.path) path, one message at a time (\(profile.messages) messages):"
                    + " final answer \(triple(profile.final)), the run itself \(triple(profile.run))")
            print("  phases (mean ms): " + phaseLine(profile.phases))
            print("  nodes (NodeFinished.elapsed, mean ms): " + nodeLine(profile.nodes))
            print("  CPU ms per message: " + cpuLine(profile.cpu))
            guard !profile.rpc.isEmpty else { continue }
            let mean = profile.final?.mean ?? 0
            print("  the mean \(fixed(mean, 2)) ms to the final answer, by where it is spent (ms, share):")
            for part in profile.breakdown {
                print(
                    "    " + pad(part.part, 52) + pad(fixed(part.ms, 2), -9)
                        + pad(fixed(mean > 0 ? 100 * part.ms / mean : 0, 0) + " %", -7))
            }
            print(
                "  " + pad("service", 14) + pad("side", 8) + pad("method", 52) + pad("calls/msg", -10)
                    + pad("ms/msg", -9))
            for share in profile.rpc {
                print(
                    "  " + pad(share.service, 14) + pad(share.side, 8) + pad(share.method, 52)
                        + pad(fixed(share.callsPerMessage, 2), -10) + pad(fixed(share.msPerMessage, 2), -9))
            }
        }
    }

    /// `group ms, ...` as measured.
    private func cpuLine(_ parts: [TimePart]) -> String {
        parts.map { "\($0.part) \(fixed($0.ms, 2))" }.joined(separator: ", ")
    }

    /// `phase mean, ...` in the order of a message.
    private func phaseLine(_ phases: [String: Stats]) -> String {
        PathResult.phaseNames.compactMap { name in phases[name].map { "\(name) \(fixed($0.mean, 2))" } }.joined(
            separator: ", ")
    }

    /// `node mean, ...` in the flow's order.
    private func nodeLine(_ nodes: [String: Stats]) -> String {
        let order = [
            "kb_lookup", "kb_helpful", "answer_from_kb", "create_ticket", "notify_support", "reply_with_ticket", "done",
        ]
        let names = order.filter { nodes[$0] != nil } + nodes.keys.filter { !order.contains($0) }.sorted()
        return names.compactMap { name in nodes[name].map { "\(name) \(fixed($0.mean, 2))" } }.joined(separator: ", ")
    }
}
