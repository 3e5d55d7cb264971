import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time of the platform's processes from /proc, so that two readings around a phase say
/// which process spent how much processor time on its messages: each service (its replicas
/// together), the PostgreSQL cluster, Redis, their sum (the platform's own processes), the
/// benchmark client, and the whole machine (/proc/stat), which also counts whatever else was
/// running. Every group is a set of process trees: a pid and all its live descendants, as the
/// anchor's load client (../shared/anchors/seed-stack/loadclient.py) counts them, so that both
/// systems are measured the same way.
struct CPUAccounting: Sendable {
    /// Service name and the pids of its replicas.
    let services: [(service: String, pids: [Int32])]
    /// The platform's PostgreSQL postmaster (the cluster is its tree); nil: not counted.
    let postmaster: Int32?
    /// The platform's redis-server; nil: not counted.
    let redis: Int32?

    /// The whole machine's busy time, under this key.
    static let machine = "machine (all processes)"
    /// The services, PostgreSQL and Redis together (the client apart), under this key.
    static let ownProcesses = "own processes (services + PostgreSQL + Redis)"
    /// The PostgreSQL cluster (postmaster and all its children), under this key.
    static let postgres = "postgres (cluster)"
    /// The Redis server, under this key.
    static let redisServer = "redis-server"
    /// This process, under this key.
    static let client = "benchmark client"

    /// CPU seconds per group now.
    func snapshot() -> [String: Double] {
        let table = ProcessTable.read()
        var result: [String: Double] = [:]
        var own = 0.0
        for (service, pids) in services {
            result[service] = table.treeSeconds(pids)
            own += result[service] ?? 0
        }
        if let postmaster {
            result[Self.postgres] = table.treeSeconds([postmaster])
            own += result[Self.postgres] ?? 0
        }
        if let redis {
            result[Self.redisServer] = table.treeSeconds([redis])
            own += result[Self.redisServer] ?? 0
        }
        result[Self.ownProcesses] = own
        result[Self.client] = table.treeSeconds([getpid()])
        result[Self.machine] = Self.machineBusySeconds()
        return result
    }

    /// Milliseconds of CPU per message between two snapshots: the groups largest first, then the
    /// own processes' sum, then the machine.
    static func perMessage(from before: [String: Double], to after: [String: Double], messages: Int)
        -> [TimePart]
    {
        guard messages > 0 else { return [] }
        let parts = after.map { key, value in
            TimePart(part: key, ms: (value - (before[key] ?? 0)) * 1000 / Double(messages))
        }
        let totals = [ownProcesses, machine]
        return parts.filter { !totals.contains($0.part) }.sorted { $0.ms > $1.ms }
            + totals.compactMap { total in parts.first { $0.part == total } }
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

/// Every live process's parent and CPU time, read from /proc at one moment.
struct ProcessTable {
    /// Child pids by parent pid.
    var children: [Int32: [Int32]] = [:]
    /// utime + stime by pid, in seconds.
    var seconds: [Int32: Double] = [:]

    /// Reads /proc/<pid>/stat of every process.
    static func read() -> ProcessTable {
        var table = ProcessTable()
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = text.lastIndex(of: ")")
            else { continue }
            // After "pid (comm) " come the fields from the third on: ppid is [1], utime [11], stime [12].
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let parent = Int32(fields[1]), let user = Double(fields[11]),
                let system = Double(fields[12])
            else { continue }
            table.children[parent, default: []].append(pid)
            table.seconds[pid] = (user + system) / tick
        }
        return table
    }

    /// CPU seconds of `roots` and all their live descendants (each process once).
    func treeSeconds(_ roots: [Int32]) -> Double {
        var seen: Set<Int32> = []
        var todo = roots
        var total = 0.0
        while let pid = todo.popLast() {
            guard seen.insert(pid).inserted else { continue }
            total += seconds[pid] ?? 0
            todo += children[pid] ?? []
        }
        return total
    }
}
