import ProtoJSON
import Testing

@Suite("Bad input is a ProtoJSONError naming the field, never a crash")
struct BadInputTests {
    /// One bad document: the message type, the JSON, the path the error must name and words its
    /// reason must contain.
    struct Case: Sendable, CustomTestStringConvertible {
        let type: String
        let json: String
        let path: String
        let reason: String
        var testDescription: String { json.count > 60 ? String(json.prefix(60)) + "…" : json }

        init(_ type: String, _ json: String, _ path: String, _ reason: String) {
            self.type = "agentplane." + type
            self.json = json
            self.path = path
            self.reason = reason
        }
    }

    static let malformedJSONCases: [Case] = [
        Case("test.v1.Scalars", "", "", "no value"),
        Case("test.v1.Scalars", "   ", "", "no value"),
        Case("test.v1.Scalars", "{", "", "expected a string as the member name"),
        Case("test.v1.Scalars", #"{"fInt32":1"#, "", "expected ',' or '}'"),
        Case("test.v1.Scalars", #"{"fInt32":1,}"#, "", "expected a string as the member name"),
        Case("test.v1.Scalars", #"{"fInt32" 1}"#, "", "expected ':'"),
        Case("test.v1.Scalars", #"{'fInt32':1}"#, "", "expected a string"),
        Case("test.v1.Scalars", #"{"fInt32":1} x"#, "", "unexpected data after the JSON value"),
        Case("test.v1.Scalars", #"{"fInt32":1}{}"#, "", "unexpected data after the JSON value"),
        Case("test.v1.Scalars", #"{"fInt32":01}"#, "", "expected ',' or '}'"),
        Case("test.v1.Scalars", #"{"fInt32":+1}"#, "fInt32", "unexpected '+'"),
        Case("test.v1.Scalars", #"{"fInt32":1.}"#, "fInt32", "invalid number"),
        Case("test.v1.Scalars", #"{"fInt32":.5}"#, "fInt32", "unexpected '.'"),
        Case("test.v1.Scalars", #"{"fInt32":1e}"#, "fInt32", "invalid number"),
        Case("test.v1.Scalars", #"{"fInt32":NaN}"#, "fInt32", "unexpected 'N'"),
        Case("test.v1.Scalars", #"{"fBool":tru}"#, "fBool", "unexpected 't'"),
        Case("test.v1.Scalars", #"{"fBool":True}"#, "fBool", "unexpected 'T'"),
        Case("test.v1.Scalars", #"{"fString":"abc}"#, "fString", "unterminated string"),
        Case("test.v1.Scalars", "{\"fString\":\"a\nb\"}", "fString", "control character"),
        Case("test.v1.Scalars", #"{"fString":"\x41"}"#, "fString", "invalid escape"),
        Case("test.v1.Scalars", #"{"fString":"\u12"}"#, "fString", "four hex digits"),
        Case("test.v1.Scalars", #"{"fString":"\uD800"}"#, "fString", "lone surrogate"),
        Case("test.v1.Scalars", #"{"fString":"\uDC00\uD800"}"#, "fString", "lone surrogate"),
        Case("test.v1.Scalars", #"{"fString":"\uD800\u0041"}"#, "fString", "lone surrogate"),
        Case("test.v1.Scalars", #"{"fInt32":1,"fInt32":2}"#, "", #"duplicate key "fInt32""#),
        Case("v1.Agent", #"{"metadata":{"a":"1","a":"2"}}"#, "metadata", #"duplicate key "a""#),
        Case("test.v1.Repeated", #"{"rInt32":[1,2,]}"#, "rInt32[2]", "unexpected ']'"),
        Case("test.v1.Repeated", #"{"rInt32":[1 2]}"#, "rInt32", "expected ',' or ']'"),
    ]

    static let wrongTypesCases: [Case] = [
        Case("test.v1.Scalars", "[]", "", "expected an object (agentplane.test.v1.Scalars), got an array"),
        Case("test.v1.Scalars", "null", "", "expected an object"),
        Case("test.v1.Scalars", #"{"fString":5}"#, "fString", "expected a string, got a number"),
        Case("test.v1.Scalars", #"{"fBool":"true"}"#, "fBool", "expected true or false, got a string"),
        Case("test.v1.Scalars", #"{"fBool":1}"#, "fBool", "expected true or false"),
        Case("test.v1.Scalars", #"{"fInt32":true}"#, "fInt32", "expected an integer (int32), got true"),
        Case("test.v1.Scalars", #"{"fInt32":1.5}"#, "fInt32", "expected an integer (int32), got 1.5"),
        Case("test.v1.Scalars", #"{"fInt32":"1.5"}"#, "fInt32", "expected an integer"),
        Case("test.v1.Scalars", #"{"fInt32":1e-1}"#, "fInt32", "expected an integer"),
        Case("test.v1.Scalars", #"{"fInt64":"12abc"}"#, "fInt64", #"expected an integer (int64), got "12abc""#),
        Case("test.v1.Scalars", #"{"fInt64":" 12"}"#, "fInt64", "expected an integer"),
        Case("test.v1.Scalars", #"{"fInt64":""}"#, "fInt64", "expected an integer"),
        Case("test.v1.Scalars", #"{"fInt64":1.5}"#, "fInt64", "expected an integer (int64), got 1.5"),
        Case("test.v1.Scalars", #"{"fDouble":"abc"}"#, "fDouble", "expected a number (double)"),
        Case("test.v1.Scalars", #"{"fDouble":"nan"}"#, "fDouble", "expected a number (double)"),
        Case("test.v1.Scalars", #"{"fDouble":{}}"#, "fDouble", "expected a number (double), got an object"),
        Case("test.v1.Scalars", #"{"fBytes":"a"}"#, "fBytes", "expected a base64 string"),
        Case("test.v1.Scalars", #"{"fBytes":"QQ=A"}"#, "fBytes", "expected a base64 string"),
        Case("test.v1.Scalars", #"{"fBytes":"Q Q=="}"#, "fBytes", "expected a base64 string"),
        Case("test.v1.Scalars", #"{"fColor":"COLOR_PURPLE"}"#, "fColor", #"unknown value "COLOR_PURPLE" for enum"#),
        Case("test.v1.Scalars", #"{"fColor":1.5}"#, "fColor", "expected an integer"),
        Case("test.v1.Scalars", #"{"fColor":true}"#, "fColor", "expected an enum value name"),
        Case("test.v1.Repeated", #"{"rInt32":5}"#, "rInt32", "expected an array, got a number"),
        Case("test.v1.Repeated", #"{"rInt32":[1,null]}"#, "rInt32[1]", "cannot be null"),
        Case("test.v1.Repeated", #"{"rMessage":[{},{"fInt32":"x"}]}"#, "rMessage[1].fInt32", "expected an integer"),
        Case("test.v1.Maps", #"{"stringToString":[]}"#, "stringToString", "expected an object (map)"),
        Case("test.v1.Maps", #"{"int32ToInt64":{"x":"1"}}"#, "int32ToInt64.x", "expected an integer map key"),
        Case("test.v1.Maps", #"{"int32ToInt64":{"1.0":"1"}}"#, #"int32ToInt64["1.0"]"#, "expected an integer map key"),
        Case("test.v1.Maps", #"{"int32ToInt64":{"1":"1","01":"2"}}"#, #"int32ToInt64["01"]"#, "given twice"),
        Case("test.v1.Maps", #"{"int32ToInt64":{"3000000000":"1"}}"#, #"int32ToInt64["3000000000"]"#, "out of range"),
        Case("test.v1.Maps", #"{"boolToMessage":{"yes":{}}}"#, "boolToMessage.yes", "true or false"),
        Case("test.v1.Maps", #"{"stringToString":{"a":null}}"#, "stringToString.a", "cannot be null"),
        Case(
            "test.v1.Maps", #"{"stringToMessage":{"a b":{"fUint64":-1}}}"#, #"stringToMessage["a b"].fUint64"#,
            "out of range"),
        Case("test.v1.WellKnown", #"{"at":12}"#, "at", "expected a string like"),
        Case("test.v1.WellKnown", #"{"data":[]}"#, "data", "expected an object (google.protobuf.Struct)"),
        Case("test.v1.WellKnown", #"{"list":{}}"#, "list", "expected an array (google.protobuf.ListValue)"),
        Case("test.v1.WellKnown", #"{"value":1e999}"#, "value", "out of range"),
        Case("test.v1.WellKnown", #"{"data":{"deep":{"x":[1,2e400]}}}"#, "data.deep.x[1]", "out of range"),
    ]

    static let unknownAndDuplicateFieldsCases: [Case] = [
        Case(
            "v1.GetAgentRequest", #"{"foo":1}"#, "", #"unknown field "foo" in agentplane.v1.GetAgentRequest"#),
        Case("v1.GetAgentRequest", #"{"AgentId":"x"}"#, "", #"unknown field "AgentId""#),
        Case("v1.GetAgentRequest", #"{"agentId":"a","agent_id":"b"}"#, "", #"field "agent_id" is given twice"#),
        Case("v1.GetAgentRequest", #"{"agent_id":null,"agentId":"b"}"#, "", "is given twice"),
        Case("v1.SendMessageResponse", #"{"event":{"runId":"r","bogus":true}}"#, "event", #"unknown field "bogus""#),
        Case("test.v1.Choice", #"{"text":"a","number":"1"}"#, "number", #"oneof "pick" already has "text" set"#),
        Case("test.v1.Choice", #"{"nested":{"flag":true,"color":1}}"#, "nested.color", #"oneof "pick" already has"#),
        Case("v1.SendMessageResponse", #"{"event":{},"userMessage":{}}"#, "userMessage", "already has"),
    ]

    static let outOfRangeCases: [Case] = [
        Case("test.v1.Scalars", #"{"fInt32":2147483648}"#, "fInt32", "2147483648 is out of range for int32"),
        Case("test.v1.Scalars", #"{"fInt32":-2147483649}"#, "fInt32", "out of range for int32"),
        Case("test.v1.Scalars", #"{"fUint32":-1}"#, "fUint32", "out of range for uint32"),
        Case("test.v1.Scalars", #"{"fUint32":4294967296}"#, "fUint32", "out of range"),
        Case("test.v1.Scalars", #"{"fInt64":"9223372036854775808"}"#, "fInt64", "out of range for int64"),
        Case("test.v1.Scalars", #"{"fInt64":-9223372036854775809}"#, "fInt64", "out of range for int64"),
        Case("test.v1.Scalars", #"{"fUint64":"18446744073709551616"}"#, "fUint64", "out of range for uint64"),
        Case("test.v1.Scalars", #"{"fUint64":"-1"}"#, "fUint64", "out of range"),
        Case("test.v1.Scalars", #"{"fSint64":1e400}"#, "fSint64", "out of range"),
        Case("test.v1.Scalars", #"{"fSfixed32":1e1000000000000}"#, "fSfixed32", "out of range"),
        Case("test.v1.Scalars", #"{"fFixed64":1e-1000000000000}"#, "fFixed64", "expected an integer"),
        Case("test.v1.Scalars", #"{"fColor":2147483648}"#, "fColor", "out of range"),
        Case("test.v1.Scalars", #"{"fDouble":1e309}"#, "fDouble", "1e309 is out of range for double"),
        Case("test.v1.Scalars", #"{"fDouble":"-1e309"}"#, "fDouble", "out of range for double"),
        Case("test.v1.Scalars", #"{"fFloat":3.5e38}"#, "fFloat", "out of range for float"),
        Case("test.v1.Scalars", #"{"fFloat":"-1e39"}"#, "fFloat", "out of range for float"),
    ]

    static let badTimestampsAndDurationsCases: [Case] = [
        Case("test.v1.WellKnown", #"{"at":"2026-12-07 14:25:40Z"}"#, "at", "RFC 3339"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T14:25:40"}"#, "at", "UTC offset"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T14:25:40z"}"#, "at", "UTC offset"),
        Case("test.v1.WellKnown", #"{"at":"2026-02-29T00:00:00Z"}"#, "at", "not a valid date"),
        Case("test.v1.WellKnown", #"{"at":"2026-13-01T00:00:00Z"}"#, "at", "not a valid date"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T24:00:00Z"}"#, "at", "not a valid date"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T23:59:60Z"}"#, "at", "not a valid date"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T14:25:40.Z"}"#, "at", "fractional digits"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T14:25:40.1234567891Z"}"#, "at", "fractional digits"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T14:25:40+24:00"}"#, "at", "UTC offset"),
        Case("test.v1.WellKnown", #"{"at":"2026-12-07T14:25:40Z "}"#, "at", "after the timestamp"),
        Case("test.v1.WellKnown", #"{"at":"0000-12-31T00:00:00Z"}"#, "at", "not a valid date"),
        Case("test.v1.WellKnown", #"{"at":"0001-01-01T00:00:00+00:01"}"#, "at", "outside 0001-01-01 to 9999-12-31"),
        Case("test.v1.WellKnown", #"{"at":"9999-12-31T23:59:59-00:01"}"#, "at", "outside"),
        Case("test.v1.WellKnown", #"{"took":"1"}"#, "took", "like \"1.5s\""),
        Case("test.v1.WellKnown", #"{"took":"1.5"}"#, "took", "like \"1.5s\""),
        Case("test.v1.WellKnown", #"{"took":"+1s"}"#, "took", "like \"1.5s\""),
        Case("test.v1.WellKnown", #"{"took":".5s"}"#, "took", "like \"1.5s\""),
        Case("test.v1.WellKnown", #"{"took":"1.s"}"#, "took", "fractional digits"),
        Case("test.v1.WellKnown", #"{"took":"1.0000000001s"}"#, "took", "fractional digits"),
        Case("test.v1.WellKnown", #"{"took":"315576000001s"}"#, "took", "out of range"),
        Case("test.v1.WellKnown", #"{"took":"-99999999999999999999999s"}"#, "took", "out of range"),
        Case("test.v1.WellKnown", #"{"took":1.5}"#, "took", "expected a string like \"1.5s\""),
    ]

    private func check(_ bad: Case) {
        guard let error = TestSchema.decodeError(bad.json, as: bad.type) else {
            Issue.record("\(bad.json) decoded as \(bad.type)")
            return
        }
        #expect(error.path == bad.path, "\(error)")
        #expect(error.reason.contains(bad.reason), "\(error)")
        #expect(error.description == (bad.path.isEmpty ? error.reason : "\(bad.path): \(error.reason)"))
    }

    @Test(arguments: malformedJSONCases) func malformedJSON(_ bad: Case) { check(bad) }
    @Test(arguments: wrongTypesCases) func wrongTypes(_ bad: Case) { check(bad) }
    @Test(arguments: unknownAndDuplicateFieldsCases) func unknownAndDuplicateFields(_ bad: Case) { check(bad) }
    @Test(arguments: outOfRangeCases) func outOfRange(_ bad: Case) { check(bad) }
    @Test(arguments: badTimestampsAndDurationsCases) func badTimestampsAndDurations(_ bad: Case) { check(bad) }

    @Test func invalidUTF8AnywhereIsRefused() {
        let cases: [(bytes: [UInt8], path: String)] = [
            (Array(#"{"fString":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), "fString"),
            (Array(#"{"fString":""#.utf8) + [0xFF] + Array(#""}"#.utf8), "fString"),
            // Overlong encodings of '/', a surrogate encoded as UTF-8, a code point past U+10FFFF.
            (Array(#"{"fString":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), "fString"),
            (Array(#"{"fString":""#.utf8) + [0xE0, 0x80, 0xAF] + Array(#""}"#.utf8), "fString"),
            (Array(#"{"fString":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), "fString"),
            (Array(#"{"fString":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8), "fString"),
            (Array(#"{"fString":""#.utf8) + [0xE2, 0x82] + Array(#""}"#.utf8), "fString"),
            // In a key, and outside any string.
            ([0x7B, 0x22, 0xFE, 0x22, 0x3A, 0x31, 0x7D], ""),
            (Array(#"{"fInt32":"#.utf8) + [0xC3, 0xA9] + [0x7D], "fInt32"),
            // A byte order mark is not JSON.
            ([0xEF, 0xBB, 0xBF] + Array("{}".utf8), ""),
        ]
        for (bytes, path) in cases {
            let error = #expect(throws: ProtoJSONError.self, "\(bytes)") {
                try TestSchema.shared.decode(json: bytes, as: "agentplane.test.v1.Scalars")
            }
            #expect(error?.path == path, "\(String(describing: error))")
        }
        // Valid multi-byte UTF-8 of every length passes.
        let valid = Array(#"{"fString":"é€𝄞߿"}"#.utf8)
        #expect(throws: Never.self) { try TestSchema.shared.decode(json: valid, as: "agentplane.test.v1.Scalars") }
    }

    @Test func unknownMessageTypeAndGarbageWire() throws {
        #expect(TestSchema.decodeError("{}", as: "agentplane.v1.Nope")?.reason.contains("unknown message type") == true)
        #expect(TestSchema.encodeError([], as: "Nope")?.reason.contains("unknown message type") == true)
        let garbage: [[UInt8]] = [
            [0x18],  // a tag without its value
            [0x18, 0x80],  // a varint cut off
            [0x18] + [UInt8](repeating: 0xFF, count: 11),  // a varint longer than ten bytes
            [0x72, 0x05, 0x61],  // a length past the end
            [0x1A, 0x01, 0x00],  // int32 sent length-delimited
            [0x72, 0x01, 0xFF],  // a string that is not UTF-8
            [0x00, 0x01],  // field number 0
            [0x0F],  // wire type 7
            [0x1C],  // an end-group tag without its start
            [0x9B, 0x06, 0x08],  // a group that does not end
            [0x82, 0x01, 0x02, 0x08],  // f_color (16) length-delimited is fine only for repeated fields
        ]
        for wire in garbage {
            let error = TestSchema.encodeError(wire, as: "agentplane.test.v1.Scalars")
            #expect(error != nil, "\(wire)")
        }
        // Inside a nested message the path names where.
        let nested: [UInt8] = [0x22, 0x02, 0x72, 0x05]
        #expect(TestSchema.encodeError(nested, as: "agentplane.test.v1.Choice")?.path == "scalars")
        let deep: [UInt8] = [0x8A, 0x01, 0x03, 0x72, 0x01, 0xFF]
        #expect(
            TestSchema.encodeError(deep, as: "agentplane.test.v1.Repeated")?.description.hasPrefix("rMessage[0]")
                == true)
        // Out-of-range well-known values on the wire.
        let badTimestamp = Agentplane_Test_WellKnownBytes.timestamp(seconds: 253_402_300_800)
        #expect(TestSchema.encodeError(badTimestamp, as: "agentplane.test.v1.WellKnown")?.path == "at")
        let badNanos = Agentplane_Test_WellKnownBytes.timestamp(seconds: 0, nanos: -1)
        #expect(TestSchema.encodeError(badNanos, as: "agentplane.test.v1.WellKnown")?.path == "at")
        let mixedSigns = Agentplane_Test_WellKnownBytes.duration(seconds: 1, nanos: -1)
        #expect(TestSchema.encodeError(mixedSigns, as: "agentplane.test.v1.WellKnown")?.path == "took")
        let nanValue: [UInt8] = [0x22, 0x09, 0x11] + [0, 0, 0, 0, 0, 0, 0xF8, 0x7F]
        #expect(TestSchema.encodeError(nanValue, as: "agentplane.test.v1.WellKnown")?.path == "value")
    }
}

/// Hand-made wire bytes of agentplane.test.v1.WellKnown with values the generated types would not
/// produce.
enum Agentplane_Test_WellKnownBytes {
    static func timestamp(seconds: Int64, nanos: Int32 = 0) -> [UInt8] {
        let inner = [0x08] + varint(UInt64(bitPattern: seconds)) + [0x10] + varint(UInt64(bitPattern: Int64(nanos)))
        return [0x0A, UInt8(inner.count)] + inner
    }

    static func duration(seconds: Int64, nanos: Int32) -> [UInt8] {
        let inner = [0x08] + varint(UInt64(bitPattern: seconds)) + [0x10] + varint(UInt64(bitPattern: Int64(nanos)))
        return [0x12, UInt8(inner.count)] + inner
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }
}
