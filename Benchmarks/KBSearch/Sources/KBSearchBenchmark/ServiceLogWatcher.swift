import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Passes the process's standard error, where the in-process service logs JSON lines, through a
/// pipe to the real one, noting each tenant whose HNSW graph the service installed ("kb: approximate
/// index built") with the recall@10 it measured then. That log line is the only outside sign that
/// vector search has switched from the exact scan to the graph.
final class ServiceLogWatcher: Sendable {
    /// The real standard error, for the benchmark's own messages (they must not wait in the pipe
    /// when the process exits).
    static let terminal: Int32 = dup(2)

    /// recall@10 the service logged per tenant whose graph it installed.
    private let installed = Mutex<[String: Double]>([:])

    private init() {}

    /// Starts watching standard error; nil when the pipe could not be set up.
    static func start() -> ServiceLogWatcher? {
        let terminal = terminal
        var ends: [Int32] = [0, 0]
        guard terminal >= 0, pipe(&ends) == 0, dup2(ends[1], 2) >= 0 else { return nil }
        close(ends[1])
        let watcher = ServiceLogWatcher()
        let reader = ends[0]
        Thread.detachNewThread { watcher.copy(from: reader, to: terminal) }
        return watcher
    }

    /// The recall@10 logged when `tenant`'s graph was installed; nil until then.
    func graphRecall(of tenant: String) -> Double? {
        installed.withLock { $0[tenant] }
    }

    private func copy(from reader: Int32, to terminal: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(terminal, $0.baseAddress! + offset, count - offset) }
                guard written > 0 else { break }
                offset += written
            }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                note(Array(pending[..<newline]))
                pending.removeSubrange(...newline)
            }
        }
    }

    private func note(_ line: [UInt8]) {
        let marker = Array("approximate index built".utf8)
        guard line.count >= marker.count,
            (0...(line.count - marker.count)).contains(where: { start in
                line[start..<start + marker.count].elementsEqual(marker)
            })
        else { return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let tenant = object["tenant"] as? String
        else { return }
        let recall = (object["recall_at_10"] as? String).flatMap(Double.init) ?? -1
        installed.withLock { $0[tenant] = recall }
    }
}
