import RPCCore
import Testing

@testable import Edge

@Suite("Errors as the edge answers them")
struct EdgeErrorTests {
    @Test func theStandardMapping() {
        let expected: [(Status.Code, UInt)] = [
            (.invalidArgument, 400), (.failedPrecondition, 400), (.outOfRange, 400), (.unauthenticated, 401),
            (.permissionDenied, 403), (.notFound, 404), (.alreadyExists, 409), (.aborted, 409),
            (.resourceExhausted, 429), (.cancelled, 499), (.unknown, 500), (.internalError, 500), (.dataLoss, 500),
            (.unimplemented, 501), (.unavailable, 503), (.deadlineExceeded, 504),
        ]
        for (code, status) in expected {
            #expect(EdgeError.httpStatus(code).code == status, "\(code)")
        }
        #expect(EdgeError.name(.notFound) == "NOT_FOUND")
        #expect(EdgeError.name(.internalError) == "INTERNAL")
    }

    @Test func theJSONBodyEscapesAndCarriesDetails() {
        let error = EdgeError(
            status: .notFound, code: "NOT_FOUND", message: "no \"x\"\n\u{1}",
            detailsJSON: Array(#"{"reason":"R"}"#.utf8))
        #expect(
            String(decoding: error.jsonBody(), as: UTF8.self)
                == #"{"code":"NOT_FOUND","message":"no \"x\"\n\u0001","details":{"reason":"R"}}"#)
        #expect(
            String(decoding: EdgeError.badRequest("bad").jsonBody(), as: UTF8.self)
                == #"{"code":"INVALID_ARGUMENT","message":"bad"}"#)
    }

    @Test func wireFieldsReadAndEdit() {
        // field 1 (string "ab"), field 2 (varint 300), field 3 (string "c")
        let bytes: [UInt8] = [0x0A, 2, 0x61, 0x62, 0x10, 0xAC, 0x02, 0x1A, 1, 0x63]
        let fields = WireFields(bytes: bytes)
        #expect(fields.payload(1) == [0x61, 0x62])
        #expect(fields.varint(2) == 300)
        #expect(fields.payload(9) == nil)
        #expect(WireFields(bytes: fields.removing([1, 3])).fields?.map(\.number) == [2])
        #expect(WireFields(bytes: fields.replacing(1, with: [0x7A])).payload(1) == [0x7A])
        // Malformed: a length past the end.
        #expect(WireFields(bytes: [0x0A, 5, 0x61]).fields == nil)
        #expect(WireFields(bytes: [0x0A, 5, 0x61]).payload(1) == nil)
    }
}
