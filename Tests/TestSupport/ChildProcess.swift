public import Foundation

/// The repository's root, for scripts and Python helpers the tests run.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A child process whose stdout the test reads, killed when the value goes away.
public final class ChildProcess: @unchecked Sendable {
    /// The process.
    public let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let errorText = NSLock()
    private var collectedErrors = Data()

    /// Starts `arguments` (looked up on PATH) with extra `environment` variables; stderr is
    /// collected (see `standardError`) when `captureStandardError`, else passed through; stdout
    /// goes to `waitForLine` when `readsOutput`, else to /dev/null (a script that starts
    /// daemons must not hand them a pipe nobody drains).
    public init(
        _ arguments: [String], environment: [String: String] = [:], captureStandardError: Bool = false,
        readsOutput: Bool = true
    ) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = readsOutput ? output : FileHandle.nullDevice
        if captureStandardError {
            process.standardError = errors
            errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let chunk = handle.availableData
                guard !chunk.isEmpty else {
                    // End of file: stop the dispatch source, which would otherwise fire again and
                    // again, and must be gone before the handle is released.
                    handle.readabilityHandler = nil
                    return
                }
                guard let self else { return }
                self.errorText.withLock { self.collectedErrors.append(chunk) }
            }
        } else {
            process.standardError = FileHandle.standardError
        }
        try process.run()
    }

    /// What the process wrote to stderr so far (when captured).
    public var standardError: String {
        errorText.withLock { String(decoding: collectedErrors, as: UTF8.self) }
    }

    /// Reads stdout until a line starts with `prefix`; returns that line.
    public func waitForLine(startingWith prefix: String) throws -> String {
        var buffer = Data()
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
            buffer.append(chunk)
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where line.hasPrefix(prefix) {
                return String(line)
            }
        }
    }

    /// Sends a signal (SIGTERM, say) to the process.
    public func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits up to `timeout` for the process to exit by itself; its exit status, or nil if it
    /// is still running. Polls, since waiting on Foundation's Process can hang in async code.
    public func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Kills the process (SIGKILL).
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit {
        stop()
        errors.fileHandleForReading.readabilityHandler = nil
    }
}

/// A port for a test server that must listen on a known number (a process started with
/// `--port`, a server restarted on the same port), chosen below Linux's ephemeral range
/// (32768–60999): a port in that range can be taken at any moment by an outgoing connection
/// of some other test, and binding it then fails with "address already in use". Prefer port
/// 0 where the server can report the port it got.
public func testServerPort(spread: Int = 1) -> Int {
    // Ports 20000-31999, in steps of `spread` so a caller can use port + 1…port + spread - 1.
    let slots = 12_000 / max(1, spread)
    return 20_000 + Int.random(in: 0..<slots) * max(1, spread)
}
