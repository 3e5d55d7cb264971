import AsyncHTTPClient
import NIOCore
import Synchronization

/// Moves a streamed response body into an `AsyncThrowingStream`, in chunks of at most
/// `chunkSize`, failing when the total passes `limit`, when no bytes arrive for `idleTimeout`
/// or when the stream lasts longer than `totalTimeout`.
struct BodyPump: Sendable {
    var body: HTTPClientResponse.Body
    var host: String
    var limit: Int
    var chunkSize: Int
    var idleTimeout: Duration
    var totalTimeout: Duration

    /// When bytes last arrived, shared by the reader and its watchdog.
    private final class Progress: Sendable {
        let lastArrival = Mutex(ContinuousClock.now)
    }

    /// Reads until the body ends; cancelling the calling task cancels the request.
    func run(into continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation) async throws {
        let progress = Progress()
        let end = ContinuousClock.now + totalTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var total = 0
                for try await buffer in body {
                    progress.lastArrival.withLock { $0 = .now }
                    total += buffer.readableBytes
                    guard total <= limit else { throw OutboundHTTPClient.tooLarge(host, limit: limit) }
                    var rest = buffer.readableBytesView[...]
                    while !rest.isEmpty {
                        continuation.yield(Array(rest.prefix(chunkSize)))
                        rest = rest.dropFirst(chunkSize)
                    }
                }
            }
            group.addTask {
                while true {
                    let idleEnd = progress.lastArrival.withLock { $0 } + idleTimeout
                    let deadline = min(idleEnd, end)
                    if ContinuousClock.now >= deadline {
                        let what = deadline == end ? "stream longer than \(totalTimeout)" : "no data for \(idleTimeout)"
                        throw OutboundHTTPError(code: .timeout, message: "\"\(host)\": \(what)")
                    }
                    try await Task.sleep(until: deadline, clock: .continuous)
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
