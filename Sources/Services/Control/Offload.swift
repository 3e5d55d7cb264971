import Dispatch

/// Runs CPU-heavy work (scrypt, validating a large flow) off the caller's thread: handlers run
/// on their connection's event loop, which must never be held up.
enum Offload {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
