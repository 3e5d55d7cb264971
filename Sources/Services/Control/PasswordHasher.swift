import Crypto
import CryptoExtras
import Foundation

/// Hashes and checks passwords with scrypt (memory-hard): N = 2^15, r = 8, p = 1 (32 MiB per
/// hash), a random 16-byte salt per hash, a 32-byte output, compared in constant time. The
/// parameters are stored with each hash so they can be raised later without breaking old ones.
/// What callers reach (Login, CreateUser) runs under a `PasswordHashingGate`.
enum PasswordHasher {
    static let logN = 15
    static let blockSize = 8
    static let parallelism = 1
    static let minimumLength = 12

    /// `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64) of `password` with a fresh salt, under
    /// `gate` (RESOURCE_EXHAUSTED when it is full).
    static func hash(_ password: String, gate: PasswordHashingGate) async throws -> String {
        try await gate.run { try hashNow(password) }
    }

    /// `hash` without a gate, for the bootstrap paths only (the platform token's CreateTenant and
    /// the configured first tenant), which no tenant's user can reach.
    static func hash(_ password: String) async throws -> String {
        try await Offload.run { try hashNow(password) }
    }

    /// Whether `password` matches `stored` (false for a malformed hash), under `gate`.
    static func verify(_ password: String, against stored: String, gate: PasswordHashingGate) async throws -> Bool {
        try await gate.run { verifyNow(password, against: stored) }
    }

    /// Spends the time of one verification, so an unknown email is not told apart by timing.
    static func burn(_ password: String, gate: PasswordHashingGate) async throws {
        _ = try await gate.run { verifyNow(password, against: burnHash) }
    }

    private static let burnHash =
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

    private static func hashNow(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let derived = try derive(password, salt: salt, logN: logN, blockSize: blockSize, parallelism: parallelism)
        return [
            "scrypt", String(logN), String(blockSize), String(parallelism),
            Data(salt).base64EncodedString(), Data(derived).base64EncodedString(),
        ].joined(separator: "$")
    }

    private static func verifyNow(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let blockSize = Int(parts[2]),
            let parallelism = Int(parts[3]), (10...20).contains(logN),
            let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]),
            let derived = try? derive(
                password, salt: Array(salt), logN: logN, blockSize: blockSize, parallelism: parallelism)
        else { return false }
        return constantTimeEqual(derived, Array(expected))
    }

    private static func derive(_ password: String, salt: [UInt8], logN: Int, blockSize: Int, parallelism: Int)
        throws -> [UInt8]
    {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1 << logN, blockSize: blockSize,
            parallelism: parallelism, maxMemory: 64 << 20)
        return key.withUnsafeBytes { Array($0) }
    }

    /// Compares without returning early at the first difference.
    static func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
