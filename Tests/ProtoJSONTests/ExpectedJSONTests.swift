import FoundationEssentials
import ProtoCoding
import ProtoJSON
import RPCModels
import TestModels
import Testing

@Suite("The JSON text written for known messages")
struct ExpectedJSONTests {
    @Test func defaultsAreAllWritten() throws {
        #expect(
            try TestSchema.json(Agentplane_Test_V1_Scalars())
                == #"{"fDouble":0,"fFloat":0,"fInt32":0,"fInt64":"0","fUint32":0,"fUint64":"0","fSint32":0,"#
                + #""fSint64":"0","fFixed32":0,"fFixed64":"0","fSfixed32":0,"fSfixed64":"0","fBool":false,"#
                + #""fString":"","fBytes":"","fColor":"COLOR_UNSPECIFIED"}"#)
        #expect(
            try TestSchema.json(Agentplane_Test_V1_Repeated())
                == #"{"rDouble":[],"rFloat":[],"rInt32":[],"rInt64":[],"rUint32":[],"rUint64":[],"rSint32":[],"#
                + #""rSint64":[],"rFixed32":[],"rFixed64":[],"rSfixed32":[],"rSfixed64":[],"rBool":[],"rString":[],"#
                + #""rBytes":[],"rColor":[],"rMessage":[],"rUnpacked":[]}"#)
        #expect(
            try TestSchema.json(Agentplane_Test_V1_Maps())
                == #"{"stringToString":{},"int32ToInt64":{},"uint64ToBytes":{},"boolToMessage":{},"#
                + #""sint32ToColor":{},"stringToMessage":{},"fixed64ToDouble":{},"sfixed32ToBool":{}}"#)
        // Message fields only when present; an empty message is `{}`.
        #expect(try TestSchema.json(Agentplane_Test_V1_Node()) == #"{"depth":0,"children":[],"label":""}"#)
        #expect(try TestSchema.json(Agentplane_Test_V1_Nothing()) == "{}")
    }

    @Test func scalarsOfEveryKind() throws {
        let message = Agentplane_Test_V1_Scalars(
            fDouble: 1.5, fFloat: -0.25, fInt32: -7, fInt64: -9_007_199_254_740_993, fUint32: 4_000_000_000,
            fUint64: .max, fSint32: -1, fSint64: 5, fFixed32: 1, fFixed64: 2, fSfixed32: -3, fSfixed64: -4, fBool: true,
            fString: "é\"\\\n\t", fBytes: Data([0, 1, 127, 128, 255]), fColor: .negative)
        #expect(
            try TestSchema.json(message)
                == #"{"fDouble":1.5,"fFloat":-0.25,"fInt32":-7,"fInt64":"-9007199254740993","fUint32":4000000000,"#
                + #""fUint64":"18446744073709551615","fSint32":-1,"fSint64":"5","fFixed32":1,"fFixed64":"2","#
                + #""fSfixed32":-3,"fSfixed64":"-4","fBool":true,"fString":"é\"\\\n\t","fBytes":"AAF/gP8=","#
                + #""fColor":"COLOR_NEGATIVE"}"#)
        // An enum number the enum does not declare is written as the number.
        #expect(try TestSchema.json(Agentplane_Test_V1_Scalars(fColor: .UNRECOGNIZED(77))).hasSuffix(#""fColor":77}"#))
        // Integral doubles without ".0"; large and small ones with an exponent.
        #expect(try TestSchema.json(Agentplane_Test_V1_Scalars(fDouble: 100)).hasPrefix(#"{"fDouble":100,"#))
        #expect(try TestSchema.json(Agentplane_Test_V1_Scalars(fDouble: 1e21)).hasPrefix(#"{"fDouble":1e+21,"#))
        #expect(try TestSchema.json(Agentplane_Test_V1_Scalars(fDouble: 1e-7)).hasPrefix(#"{"fDouble":1e-07,"#))
    }

    @Test func oneofMembersOnlyWhenSetEvenWithDefaultValues() throws {
        #expect(try TestSchema.json(Agentplane_Test_V1_Choice()) == #"{"before":"","after":""}"#)
        #expect(
            try TestSchema.json(Agentplane_Test_V1_Choice(before: "b", pick: .text("")))
                == #"{"before":"b","text":"","after":""}"#)
        #expect(
            try TestSchema.json(Agentplane_Test_V1_Choice(pick: .flag(false)))
                == #"{"before":"","flag":false,"after":""}"#)
        #expect(
            try TestSchema.json(Agentplane_Test_V1_Choice(pick: .number(0)))
                == #"{"before":"","number":"0","after":""}"#)
        #expect(
            try TestSchema.json(Agentplane_Test_V1_Choice(pick: .color(.unspecified)))
                == #"{"before":"","color":"COLOR_UNSPECIFIED","after":""}"#)
        #expect(
            try TestSchema.json(Agentplane_V1_SendMessageResponse(item: .assistantMessage(Agentplane_V1_Message())))
                == #"{"assistantMessage":{"id":"","conversationId":"","role":"MESSAGE_ROLE_UNSPECIFIED","content":"","#
                + #""runId":"","authorId":"","metadata":{}}}"#)
    }

    @Test func mapsAreObjectsSortedByKey() throws {
        let maps = Agentplane_Test_V1_Maps(
            stringToString: ["b": "2", "a": "1", "": "empty"], int32ToInt64: [10: 1, -2: .min, 3: 0],
            uint64ToBytes: [.max: Data([0xFF])], boolToMessage: [true: Agentplane_Test_V1_Scalars(fInt32: 1)],
            sint32ToColor: [-5: .red], fixed64ToDouble: [2: 0.5], sfixed32ToBool: [-1: true, 0: false])
        let json = try TestSchema.json(maps)
        #expect(json.hasPrefix(#"{"stringToString":{"":"empty","a":"1","b":"2"},"#), "\(json)")
        #expect(json.contains(#""int32ToInt64":{"-2":"-9223372036854775808","3":"0","10":"1"}"#), "\(json)")
        #expect(json.contains(#""uint64ToBytes":{"18446744073709551615":"/w=="}"#), "\(json)")
        #expect(json.contains(#""boolToMessage":{"true":{"fDouble":0,"#), "\(json)")
        #expect(json.contains(#""sint32ToColor":{"-5":"COLOR_RED"}"#), "\(json)")
        #expect(json.contains(#""fixed64ToDouble":{"2":0.5}"#), "\(json)")
        #expect(json.hasSuffix(#""sfixed32ToBool":{"-1":true,"0":false}}"#), "\(json)")
    }

    @Test func timestampsDurationsStructs() throws {
        let wellKnown = Agentplane_Test_V1_WellKnown(
            at: Google_Protobuf_Timestamp(seconds: 1_764_000_000, nanos: 123_456_789),
            took: Google_Protobuf_Duration(seconds: -3, nanos: -500),
            data: Google_Protobuf_Struct(fields: [
                "z": Google_Protobuf_Value(kind: .nullValue(.nullValue)),
                "a": Google_Protobuf_Value(kind: .numberValue(0.35)),
                "m": Google_Protobuf_Value(
                    kind: .structValue(
                        Google_Protobuf_Struct(fields: ["x": Google_Protobuf_Value(kind: .boolValue(true))]))),
                "l": Google_Protobuf_Value(
                    kind: .listValue(
                        Google_Protobuf_ListValue(values: [Google_Protobuf_Value(kind: .stringValue("s"))]))),
            ]),
            value: Google_Protobuf_Value(kind: .numberValue(-1)), list: Google_Protobuf_ListValue())
        #expect(
            try TestSchema.json(wellKnown)
                == #"{"at":"2025-11-24T16:00:00.123456789Z","took":"-3.000000500s","#
                + #""data":{"a":0.35,"l":["s"],"m":{"x":true},"z":null},"value":-1,"list":[]}"#)
        let cases: [(Int64, Int32, String, String)] = [
            (0, 0, "1970-01-01T00:00:00Z", "0s"),
            (1_700_000_000, 5_000_000, "2023-11-14T22:13:20.005Z", "1700000000.005s"),
            (1_700_000_100, 120_000, "2023-11-14T22:15:00.000120Z", "1700000100.000120s"),
            (-62_135_596_800, 0, "0001-01-01T00:00:00Z", "-62135596800s"),
            (253_402_300_799, 999_999_999, "9999-12-31T23:59:59.999999999Z", "253402300799.999999999s"),
            (951_782_400, 0, "2000-02-29T00:00:00Z", "951782400s"),
        ]
        for (seconds, nanos, timestamp, duration) in cases {
            let message = Agentplane_Test_V1_WellKnown(
                at: Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos),
                took: Google_Protobuf_Duration(seconds: seconds, nanos: nanos))
            #expect(
                try TestSchema.json(message) == #"{"at":"\#(timestamp)","took":"\#(duration)"}"#, "\(seconds) \(nanos)")
        }
        let tiny = Agentplane_Test_V1_WellKnown(took: Google_Protobuf_Duration(seconds: 0, nanos: -1))
        #expect(try TestSchema.json(tiny) == #"{"took":"-0.000000001s"}"#)
        // A Value with no kind set reads as null.
        #expect(try TestSchema.json(Agentplane_Test_V1_WellKnown(value: Google_Protobuf_Value())) == #"{"value":null}"#)
    }

    @Test func nestedTypesAndKeywordNames() throws {
        #expect(
            try TestSchema.json(
                Agentplane_Test_V1_Outer(
                    inner: .init(level: .high, name: "in"), level: .high, byName: ["k": .init(name: "v")],
                    default: "d", protocol: "p", selfID: -42))
                == #"{"inner":{"level":"LEVEL_HIGH","name":"in"},"inners":[],"level":"LEVEL_HIGH","#
                + #""byName":{"k":{"level":"LEVEL_UNSPECIFIED","name":"v"}},"default":"d","protocol":"p","selfId":-42}"#
        )
    }

    @Test func oneTopLevelFieldAsTheResponseBody() throws {
        let schema = TestSchema.shared
        let agent = Agentplane_V1_Message(id: "m", role: .user)
        let wire = Agentplane_V1_SendMessageResponse(item: .userMessage(agent)).serializedBytes()
        let body = try schema.encode(wire: wire, as: "agentplane.v1.SendMessageResponse", field: "user_message")
        #expect(String(decoding: body, as: UTF8.self) == (try TestSchema.json(agent)))
        // An absent message field: the message with its defaults; a repeated field: its array.
        let absent = try schema.encode(wire: wire, as: "agentplane.v1.SendMessageResponse", field: "event")
        #expect(String(decoding: absent, as: UTF8.self).hasPrefix(#"{"runId":"","sequence":"0"}"#))
        let tags = Agentplane_V1_ListAgentsRequest(tags: ["x", "y"]).serializedBytes()
        #expect(
            try schema.encode(wire: tags, as: "agentplane.v1.ListAgentsRequest", field: "tags")
                == Array(#"["x","y"]"#.utf8))
        #expect(throws: ProtoJSONError.self) {
            try schema.encode(wire: tags, as: "agentplane.v1.ListAgentsRequest", field: "nope")
        }
    }

    @Test func readsJSONNamesAndProtoNamesAlike() throws {
        let byJSONName = try TestSchema.message(
            #"{"fInt64":"12","fColor":"COLOR_RED","fBytes":"AAF_gP8"}"#, as: Agentplane_Test_V1_Scalars.self)
        let byProtoName = try TestSchema.message(
            #"{"f_int64":12,"f_color":1,"f_bytes":"AAF/gP8="}"#, as: Agentplane_Test_V1_Scalars.self)
        #expect(byJSONName == byProtoName)
        #expect(
            byJSONName == Agentplane_Test_V1_Scalars(fInt64: 12, fBytes: Data([0, 1, 127, 128, 255]), fColor: .red))
    }

    @Test func lenientInputsTheMappingAllows() throws {
        // Integers as strings, with exponents or a zero fraction; floats as strings; null for unset.
        let message = try TestSchema.message(
            #"{"fInt32":"1e2","fUint32":1.0,"fInt64":-12e1,"fDouble":"2.5","fFloat":"-Infinity","fString":null,"#
                + #""fSfixed32":"-0"}"#, as: Agentplane_Test_V1_Scalars.self)
        #expect(
            message
                == Agentplane_Test_V1_Scalars(fDouble: 2.5, fFloat: -.infinity, fInt32: 100, fInt64: -120, fUint32: 1))
        // Timestamps in any offset; durations with up to 9 digits.
        let wellKnown = try TestSchema.message(
            #"{"at":"2026-12-07T15:25:40.5+01:00","took":"-1.000000001s"}"#, as: Agentplane_Test_V1_WellKnown.self)
        #expect(wellKnown.at == Google_Protobuf_Timestamp(seconds: 1_796_653_540, nanos: 500_000_000))
        #expect(wellKnown.took == Google_Protobuf_Duration(seconds: -1, nanos: -1))
        // null for a Value is its null_value; in a list and in a struct too.
        let values = try TestSchema.message(
            #"{"value":null,"list":[null,1],"data":{"n":null}}"#, as: Agentplane_Test_V1_WellKnown.self)
        #expect(values.value == Google_Protobuf_Value(kind: .nullValue(.nullValue)))
        #expect(values.list?.values.first == Google_Protobuf_Value(kind: .nullValue(.nullValue)))
        #expect(values.data?.fields["n"] == Google_Protobuf_Value(kind: .nullValue(.nullValue)))
        // Whitespace anywhere between tokens; escapes in names.
        let spaced = try TestSchema.message(" {\n\t\"f\\u0049nt32\" : 5 \r\n} ", as: Agentplane_Test_V1_Scalars.self)
        #expect(spaced.fInt32 == 5)
    }
}
