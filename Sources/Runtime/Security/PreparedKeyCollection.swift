import JWTKit

/// A jwt-kit key collection filled in the background once, so that the types holding one can
/// have synchronous initializers: jwt-kit's collection is an actor, and adding keys to it
/// needs an `await`. Every key is checked before it gets here, so filling cannot fail.
struct PreparedKeyCollection: Sendable {
    private let task: Task<JWTKeyCollection, Never>

    /// A collection that `fill` fills.
    init(_ fill: @escaping @Sendable (JWTKeyCollection) async -> Void) {
        task = Task {
            let keys = JWTKeyCollection()
            await fill(keys)
            return keys
        }
    }

    /// A collection holding only the platform's HS256 key.
    static func hmac(secret: [UInt8]) -> PreparedKeyCollection {
        PreparedKeyCollection { await $0.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256) }
    }

    /// The collection, once filled.
    var keys: JWTKeyCollection {
        get async { await task.value }
    }
}
