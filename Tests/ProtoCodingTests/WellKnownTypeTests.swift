import Foundation
import RPCModels
import Testing

@Suite("Well-known types meet Foundation and Swift types")
struct WellKnownTypeTests {
    @Test func timestampFromDate() {
        let timestamp = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: 1_700_000_000.25))
        #expect(timestamp.seconds == 1_700_000_000)
        #expect(timestamp.nanos == 250_000_000)
        #expect(timestamp.date == Date(timeIntervalSince1970: 1_700_000_000.25))
        let beforeEpoch = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: -1.5))
        #expect(beforeEpoch.seconds == -2)
        #expect(beforeEpoch.nanos == 500_000_000)
    }

    @Test func durationKeepsOneSign() {
        let negative = Google_Protobuf_Duration(.milliseconds(-1500))
        #expect(negative.seconds == -1)
        #expect(negative.nanos == -500_000_000)
        #expect(negative.duration == .milliseconds(-1500))
        let positive = Google_Protobuf_Duration(.milliseconds(2250))
        #expect(positive.seconds == 2)
        #expect(positive.nanos == 250_000_000)
    }
}
