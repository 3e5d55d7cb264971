import Foundation
public import RPCCore

/// The list conventions of common.proto ([Pagination]): page sizes and opaque page tokens
/// bound to the filters they were issued with.
public enum Pagination {
    /// The page size to use: 0 → `defaultSize`, above `maximum` → `maximum`, negative →
    /// INVALID_ARGUMENT.
    public static func pageSize(_ requested: Int32, default defaultSize: Int = 50, maximum: Int = 200)
        throws(RPCError) -> Int
    {
        if requested < 0 {
            throw RPCError.invalidField("page_size", code: "NEGATIVE", "page_size must be 0 (default) or positive")
        }
        return requested == 0 ? defaultSize : min(Int(requested), maximum)
    }

    /// A token for the page after `cursor` (e.g. the last row's sort key and id), bound to
    /// `filters` (any text that identifies the request's filters).
    public static func token(cursor: [String], filters: String) -> String {
        let payload = ([String(fingerprint(filters), radix: 16)] + cursor).map {
            $0.replacingOccurrences(of: "\u{1}", with: "")
        }
        let data = Data(payload.joined(separator: "\u{1}").utf8)
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    /// The cursor in `token` (nil for the first page); INVALID_ARGUMENT for a malformed token
    /// or one issued for other filters.
    public static func cursor(from token: String, filters: String) throws(RPCError) -> [String]? {
        if token.isEmpty { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else {
            throw RPCError.invalidField("page_token", code: "MALFORMED", "page_token is not one this service issued")
        }
        let parts = text.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, first == String(fingerprint(filters), radix: 16) else {
            throw RPCError.invalidField(
                "page_token", code: "FILTERS_CHANGED", "page_token was issued for other filters; start again without it"
            )
        }
        return Array(parts.dropFirst())
    }

    /// FNV-1a: stable across processes (Swift's Hasher is seeded per process).
    private static func fingerprint(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
