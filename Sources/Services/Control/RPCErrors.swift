import Foundation
import RPCCore
import Runtime

/// The control plane's recurring errors, worded once.
enum RPCErrors {
    static func invalid(_ field: String, _ code: String, _ explanation: String) -> RPCError {
        RPCError.invalidField(field, code: code, explanation)
    }

    static func notFound(_ what: String, _ id: String) -> RPCError {
        RPCError(code: .notFound, message: "no \(what) \"\(id.prefix(200))\" in this tenant")
    }

    static let unauthenticated = RPCError(code: .unauthenticated, message: "invalid credentials")

    /// A required text field: present, at most `maximum` characters.
    static func requireText(_ value: String, field: String, maximum: Int = 200) throws {
        if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw invalid(field, "MISSING_FIELD", "\(field) must not be empty")
        }
        if value.count > maximum {
            throw invalid(field, "TOO_LONG", "\(field) must be at most \(maximum) characters")
        }
    }

    /// A lower-cased email of sane shape.
    static func email(_ value: String, field: String = "email") throws -> String {
        let email = value.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !email.contains(where: { $0.isWhitespace })
        else { throw invalid(field, "INVALID_EMAIL", "\(field) must be an email address like name@example.com") }
        return email
    }

    static func password(_ value: String, field: String = "password") throws {
        if value.count < PasswordHasher.minimumLength {
            throw invalid(field, "TOO_SHORT", "\(field) must have at least \(PasswordHasher.minimumLength) characters")
        }
        if value.utf8.count > 1024 { throw invalid(field, "TOO_LONG", "\(field) must be at most 1024 bytes") }
    }
}
