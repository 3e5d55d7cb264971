import Foundation
import RPCCore
import RuntimeSecurity
import Testing

@Suite("Secret box")
struct SecretBoxTests {
    private let keyA = (id: "a", key: [UInt8](repeating: 0xA1, count: 32))
    private let keyB = (id: "b", key: [UInt8](repeating: 0xB2, count: 32))
    private let context = "tenant-123/tool/42/secret"

    @Test("seal then open gives the plaintext back; the format is version, key id, nonce, ciphertext, tag")
    func roundTrip() throws {
        let box = try SecretBox(keys: [keyA])
        let plaintext = Array("sk-live-0123456789".utf8)
        let sealed = try box.seal(plaintext, context: context)
        #expect(sealed[0] == 1)
        #expect(sealed[1] == 1)
        #expect(sealed[2] == UInt8(ascii: "a"))
        #expect(sealed.count == 3 + 12 + plaintext.count + 16)
        #expect(try box.open(sealed, context: context) == plaintext)
        #expect(try box.seal(plaintext, context: context) != sealed)  // a fresh nonce each time
        #expect(try box.open(box.seal([], context: context), context: context) == [])

        let text = try box.sealString("pässwörd", context: context)
        #expect(try box.openString(text, context: context) == "pässwörd")
    }

    @Test("any altered byte, another context or garbage fails")
    func tampering() throws {
        let box = try SecretBox(keys: [keyA])
        let sealed = try box.seal(Array("secret".utf8), context: context)
        for index in 3..<sealed.count {
            var altered = sealed
            altered[index] ^= 0x01
            let error = #expect(throws: SecretBoxError.self) { _ = try box.open(altered, context: context) }
            #expect(error?.code == .authenticationFailed, "byte \(index)")
        }
        let moved = #expect(throws: SecretBoxError.self) {
            _ = try box.open(sealed, context: "tenant-456/tool/42/secret")
        }
        #expect(moved?.code == .authenticationFailed)
        #expect(
            (#expect(throws: SecretBoxError.self) { _ = try box.open([1, 1], context: context) })?.code == .malformed)
        var wrongVersion = sealed
        wrongVersion[0] = 9
        #expect(
            (#expect(throws: SecretBoxError.self) { _ = try box.open(wrongVersion, context: context) })?.code
                == .malformed)
        #expect(
            (#expect(throws: SecretBoxError.self) { _ = try box.openString("%%%", context: context) })?.code
                == .malformed)
    }

    @Test("rotation: old ciphertexts open while their key is kept, new ones use the first key")
    func rotation() throws {
        let old = try SecretBox(keys: [keyA])
        let sealedWithA = try old.seal(Array("v1".utf8), context: context)
        let rotated = try SecretBox(keys: [keyB, keyA])
        #expect(rotated.sealingKeyID == "b")
        #expect(try rotated.open(sealedWithA, context: context) == Array("v1".utf8))
        let sealedWithB = try rotated.seal(Array("v2".utf8), context: context)
        #expect(try SecretBox.keyID(of: sealedWithB) == "b")
        let resealed = try rotated.reseal(sealedWithA, context: context)
        #expect(try SecretBox.keyID(of: resealed) == "b")

        let onlyB = try SecretBox(keys: [keyB])
        #expect(try onlyB.open(resealed, context: context) == Array("v1".utf8))
        let error = #expect(throws: SecretBoxError.self) { _ = try onlyB.open(sealedWithA, context: context) }
        #expect(error?.code == .unknownKeyID)
        #expect(error?.keyID == "a")
        #expect(error?.message.contains("key a") == true)
    }

    @Test("bad keys are refused; no key configured is FAILED_PRECONDITION naming SECRET_BOX_KEYS")
    func configuration() throws {
        #expect(throws: SecretBoxError.self) { _ = try SecretBox(keys: []) }
        #expect(throws: SecretBoxError.self) { _ = try SecretBox(keys: [(id: "short", key: [1, 2, 3])]) }
        #expect(throws: SecretBoxError.self) { _ = try SecretBox(keys: [keyA, keyA]) }
        #expect(throws: SecretBoxError.self) { _ = try SecretBox(keys: [(id: "", key: keyA.key)]) }

        let error = #expect(throws: RPCError.self) { _ = try SecretBox.required(nil) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("SECRET_BOX_KEYS") == true)
        #expect(try SecretBox.required(SecretBox(keys: [keyA])).sealingKeyID == "a")

        #expect(try SecretBox.fromEnvironment([:]) == nil)
        let encoded = Data(keyB.key).base64EncodedString()
        let fromEnvironment = try #require(
            try SecretBox.fromEnvironment(["SECRET_BOX_KEYS": "b:\(encoded), a:\(Data(keyA.key).base64EncodedString())"]
            ))
        #expect(fromEnvironment.keyIDs == ["b", "a"])
        #expect(throws: SecretBoxError.self) { _ = try SecretBox(configuration: "b:not-base64!") }
    }
}
