import Foundation

/// A request to cancel a run, stored in Redis so any replica can ask.
struct CancelRequest: Sendable, Codable {
    /// Recorded in the run_cancelled event.
    var reason: String
    /// Who asked.
    var cancelledBy: String

    var encoded: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    init(reason: String, cancelledBy: String) {
        self.reason = reason
        self.cancelledBy = cancelledBy
    }

    init?(decoding bytes: [UInt8]) {
        guard let value = try? JSONDecoder().decode(CancelRequest.self, from: Data(bytes)) else { return nil }
        self = value
    }
}
