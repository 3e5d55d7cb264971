import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time of the platform's processes from /proc, so that two readings around a phase say
/// which process spent how much processor time on its messages: each service (its replicas
/// together), the PostgreSQL backends of the platform's database, Redis, the benchmark client,
/// and the whole machine (/proc/stat), which also counts whatever else was running.
struct CPUAccounting: Sendable {
    /// Service name and the pids of its replicas.
    let services: [(service: String, pids: [Int32])]
    /// The platform's database: its backends' process titles name it.
    let databaseName: String

    /// The whole machine's busy time, under this key.
    static let machine = "machine (all processes)"

    /// CPU seconds per group now.
    func snapshot() -> [String: Double] {
        var result: [String: Double] = [:]
        for (service, pids) in services {
            result[service] = pids.reduce(0) { $0 + (Self.cpuSeconds(pid: $1) ?? 0) }
        }
        result["benchmark client"] = Self.cpuSeconds(pid: getpid()) ?? 0
        var postgres = 0.0
        var redis = 0.0
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let command = Self.commandLine(pid: pid) else { continue }
            if command.hasPrefix("postgres: ") && command.contains(" \(databaseName) ") {
                postgres += Self.cpuSeconds(pid: pid) ?? 0
            } else if command.hasPrefix("redis-server") {
                redis += Self.cpuSeconds(pid: pid) ?? 0
            }
        }
        result["postgres (\(databaseName) backends)"] = postgres
        result["redis-server (shared)"] = redis
        result[Self.machine] = Self.machineBusySeconds()
        return result
    }

    /// Milliseconds of CPU per message between two snapshots, largest first (the machine last).
    static func perMessage(from before: [String: Double], to after: [String: Double], messages: Int)
        -> [TimePart]
    {
        guard messages > 0 else { return [] }
        let parts = after.map { key, value in
            TimePart(part: key, ms: (value - (before[key] ?? 0)) * 1000 / Double(messages))
        }
        return parts.filter { $0.part != machine }.sorted { $0.ms > $1.ms } + parts.filter { $0.part == machine }
    }

    /// utime + stime of a process, in seconds; nil when it is gone.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) " come the fields from the third on: state is [0], utime [11], stime [12].
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The process's command line with spaces for the NULs; nil when it is gone or empty.
    static func commandLine(pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
            return nil
        }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Busy time of all processors (everything but idle and iowait), in seconds.
    static func machineBusySeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 5 else { return 0 }
        // user nice system idle iowait irq softirq steal ...: all but idle and iowait.
        let busy = ticks.enumerated().filter { $0.offset != 3 && $0.offset != 4 && $0.offset < 8 }.reduce(0) {
            $0 + $1.element
        }
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
