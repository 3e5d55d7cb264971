import Foundation
import RPCModels
import RuntimePostgres

/// Timestamps travel as microseconds since the epoch (`<column>_us`), exact and locale-free.
enum RowDecoding {
    /// `(extract(epoch FROM column) * 1000000)::bigint AS column_us`.
    static func micros(_ column: String) -> String {
        "(extract(epoch FROM \(column)) * 1000000)::bigint AS \(column)_us"
    }

    static func timestamp(_ row: PostgresRow, _ column: String) throws -> Google_Protobuf_Timestamp? {
        guard row["\(column)_us"] != nil else { return nil }
        let micros = try row.decode("\(column)_us", as: Int64.self)
        return Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }

    static func date(_ row: PostgresRow, _ column: String) throws -> Date? {
        try timestamp(row, column)?.date
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    static func decodeJSON<T: Decodable>(_ text: String?, as type: T.Type, default value: T) -> T {
        guard let text else { return value }
        return (try? JSONDecoder().decode(T.self, from: Data(text.utf8))) ?? value
    }
}
