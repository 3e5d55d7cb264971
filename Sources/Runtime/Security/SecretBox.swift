import Crypto
import FoundationEssentials
public import RPCCore

/// Encrypts secrets at rest (tool credentials, provider keys, webhook secrets) with
/// AES-256-GCM, binding each ciphertext to a context so it cannot be moved to another record.
///
/// Sealed format: a version byte (1), the key id's length (1 byte), the key id (UTF-8), then
/// AES-GCM's combined output: 12-byte nonce, ciphertext, 16-byte tag. The associated data is
/// the version, length and key id followed by the context's UTF-8 bytes, so changing the key
/// id or opening under another context fails authentication.
///
/// Rotation: the first key seals; every key opens. Put a new key first, keep the old ones
/// until everything has been `reseal`ed, then drop them.
public struct SecretBox: Sendable {
    /// The format version this box writes.
    public static let version: UInt8 = 1
    /// The environment variable holding the keys, as read by `fromEnvironment`.
    public static let environmentVariable = "SECRET_BOX_KEYS"
    /// The key length: 32 bytes for AES-256.
    public static let keyLength = 32

    private let keys: [(id: String, key: SymmetricKey)]

    /// A box with `keys`, each 32 bytes with an id of 1–255 UTF-8 bytes; the first seals.
    ///
    /// - Throws: `SecretBoxError` (`invalidKey`) for no keys, a wrong length, or a bad or
    ///   duplicate id.
    public init(keys: [(id: String, key: [UInt8])]) throws(SecretBoxError) {
        guard !keys.isEmpty else {
            throw SecretBoxError(code: .invalidKey, message: "a secret box needs at least one key")
        }
        var seen = Set<String>()
        for (id, key) in keys {
            guard (1...255).contains(id.utf8.count), !id.contains(":"), !id.contains(",") else {
                throw SecretBoxError(
                    code: .invalidKey, keyID: id, message: "a key id must be 1-255 bytes without ':' or ','")
            }
            guard seen.insert(id).inserted else {
                throw SecretBoxError(code: .invalidKey, keyID: id, message: "key id \(id) is given twice")
            }
            guard key.count == Self.keyLength else {
                throw SecretBoxError(
                    code: .invalidKey, keyID: id,
                    message: "key \(id) has \(key.count) bytes; AES-256 needs \(Self.keyLength)")
            }
        }
        self.keys = keys.map { ($0.id, SymmetricKey(data: $0.key)) }
    }

    /// A box from the text of `SECRET_BOX_KEYS`: comma-separated `id:base64key` entries, the
    /// sealing key first, e.g. `k2:…,k1:…`.
    ///
    /// - Throws: `SecretBoxError` (`invalidKey`) naming the entry that is wrong.
    public init(configuration: String) throws(SecretBoxError) {
        var keys: [(id: String, key: [UInt8])] = []
        for entry in configuration.split(separator: ",") {
            let entry = entry.filter { !$0.isWhitespace }
            guard let colon = entry.firstIndex(of: ":"),
                let key = Data(base64Encoded: String(entry[entry.index(after: colon)...]))
            else {
                let id = entry.prefix { $0 != ":" }
                throw SecretBoxError(
                    code: .invalidKey, keyID: String(id),
                    message: "\(Self.environmentVariable): entry \(id) is not id:base64key")
            }
            keys.append((String(entry[..<colon]), [UInt8](key)))
        }
        try self.init(keys: keys)
    }

    /// The box configured in `environment`'s `SECRET_BOX_KEYS`, or nil when it is unset or empty.
    public static func fromEnvironment(_ environment: [String: String]) throws(SecretBoxError) -> SecretBox? {
        guard let value = environment[environmentVariable], !value.allSatisfy(\.isWhitespace) else { return nil }
        return try SecretBox(configuration: value)
    }

    /// The box, or FAILED_PRECONDITION naming SECRET_BOX_KEYS when none is configured; there is
    /// never a built-in default key.
    public static func required(_ box: SecretBox?) throws(RPCError) -> SecretBox {
        guard let box else {
            throw RPCError(
                code: .failedPrecondition,
                message: "\(environmentVariable) is not set: configure a secret box key to store secrets")
        }
        return box
    }

    /// The id of the key that seals.
    public var sealingKeyID: String { keys[0].id }

    /// The ids of every key, the sealing one first.
    public var keyIDs: [String] { keys.map(\.id) }

    /// Encrypts `plaintext` for `context` (e.g. `tenant-123/tool/42/secret`) with the sealing key.
    public func seal(_ plaintext: [UInt8], context: String) throws(SecretBoxError) -> [UInt8] {
        let (id, key) = keys[0]
        let header = [Self.version, UInt8(id.utf8.count)] + Array(id.utf8)
        do {
            let sealed = try AES.GCM.seal(plaintext, using: key, authenticating: header + Array(context.utf8))
            guard let combined = sealed.combined else {
                throw SecretBoxError(code: .malformed, message: "AES-GCM gave no combined output")
            }
            return header + Array(combined)
        } catch let error as SecretBoxError {
            throw error
        } catch {
            throw SecretBoxError(code: .malformed, keyID: id, message: "cannot seal: \(error)")
        }
    }

    /// Decrypts what `seal` produced for the same `context`.
    ///
    /// - Throws: `SecretBoxError`: `unknownKeyID` naming the key, `authenticationFailed` for an
    ///   altered ciphertext or another context, `malformed` for something that is not one.
    public func open(_ sealed: [UInt8], context: String) throws(SecretBoxError) -> [UInt8] {
        let (id, header, body) = try Self.parse(sealed)
        guard let key = keys.first(where: { $0.id == id })?.key else {
            throw SecretBoxError(
                code: .unknownKeyID, keyID: id,
                message: "the secret was sealed with key \(id), which \(Self.environmentVariable) does not hold")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: body)
            return Array(try AES.GCM.open(box, using: key, authenticating: header + Array(context.utf8)))
        } catch {
            throw SecretBoxError(
                code: .authenticationFailed, keyID: id,
                message: "the secret does not open: altered, or sealed for another context")
        }
    }

    /// `seal` of the text's UTF-8, as base64 text for a text column or a config file.
    public func sealString(_ plaintext: String, context: String) throws(SecretBoxError) -> String {
        Data(try seal(Array(plaintext.utf8), context: context)).base64EncodedString()
    }

    /// `open` of base64 text from `sealString`, as UTF-8 text.
    public func openString(_ sealed: String, context: String) throws(SecretBoxError) -> String {
        guard let bytes = Data(base64Encoded: sealed) else {
            throw SecretBoxError(code: .malformed, message: "the sealed secret is not base64")
        }
        let plaintext = try open([UInt8](bytes), context: context)
        guard let text = String(validating: plaintext, as: UTF8.self) else {
            throw SecretBoxError(code: .malformed, message: "the secret is not UTF-8 text")
        }
        return text
    }

    /// The id of the key a ciphertext was sealed with, e.g. to find what still needs resealing.
    public static func keyID(of sealed: [UInt8]) throws(SecretBoxError) -> String {
        try parse(sealed).id
    }

    /// The secret sealed again with the current sealing key, for key rotation; unchanged when it
    /// already uses it.
    public func reseal(_ sealed: [UInt8], context: String) throws(SecretBoxError) -> [UInt8] {
        if try Self.keyID(of: sealed) == sealingKeyID { return sealed }
        return try seal(open(sealed, context: context), context: context)
    }

    /// Splits a ciphertext into its key id, header (the associated data's prefix) and the
    /// AES-GCM combined bytes.
    private static func parse(_ sealed: [UInt8]) throws(SecretBoxError) -> (id: String, header: [UInt8], body: [UInt8])
    {
        guard sealed.count >= 2, sealed[0] == version else {
            throw SecretBoxError(code: .malformed, message: "not a secret box ciphertext (unknown version)")
        }
        let idEnd = 2 + Int(sealed[1])
        // nonce (12) + tag (16); the ciphertext itself may be empty.
        guard sealed[1] > 0, sealed.count >= idEnd + 28,
            let id = String(validating: sealed[2..<idEnd], as: UTF8.self)
        else {
            throw SecretBoxError(code: .malformed, message: "not a secret box ciphertext (truncated)")
        }
        return (id, Array(sealed[..<idEnd]), Array(sealed[idEnd...]))
    }
}
