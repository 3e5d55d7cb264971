import RPCCore
import RPCModels
import Runtime
import Testing

@Suite("Pagination and error details")
struct PaginationTests {
    @Test func pageSizesFollowTheConvention() throws {
        #expect(try Pagination.pageSize(0) == 50)
        #expect(try Pagination.pageSize(7) == 7)
        #expect(try Pagination.pageSize(10_000) == 200)
        let negative = #expect(throws: RPCError.self) { _ = try Pagination.pageSize(-1) }
        #expect(negative?.code == .invalidArgument)
        #expect(negative?.details?.violations.first?.field == "page_size")
    }

    @Test func tokensCarryTheCursorAndAreBoundToTheirFilters() throws {
        let token = Pagination.token(cursor: ["2026-11-26T10:00:00Z", "ticket-42"], filters: "status=open")
        #expect(!token.contains("ticket-42"))
        #expect(try Pagination.cursor(from: token, filters: "status=open") == ["2026-11-26T10:00:00Z", "ticket-42"])
        #expect(try Pagination.cursor(from: "", filters: "status=open") == nil)
        let otherFilters = #expect(throws: RPCError.self) {
            _ = try Pagination.cursor(from: token, filters: "status=closed")
        }
        #expect(otherFilters?.code == .invalidArgument)
        #expect(otherFilters?.details?.violations.first?.code == "FILTERS_CHANGED")
        for garbage in ["%%%", "AAAA", "not a token"] {
            let error = #expect(throws: RPCError.self) { _ = try Pagination.cursor(from: garbage, filters: "") }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func errorDetailsTravelInTheBinaryTrailer() throws {
        let error = RPCError.withDetails(
            .resourceExhausted, "slow down", reason: "RATE_LIMITED", retryAfter: .milliseconds(1500))
        let bytes = try #require(error.metadata[binaryValues: RPCError.detailsMetadataKey].first)
        let details = try Agentplane_V1_ErrorDetails(serializedBytes: bytes)
        #expect(details.reason == "RATE_LIMITED")
        #expect(details.retryAfter?.seconds == 1)
        #expect(details.retryAfter?.nanos == 500_000_000)
    }
}
