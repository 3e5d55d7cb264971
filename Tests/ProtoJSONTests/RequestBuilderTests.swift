import FoundationEssentials
import ProtoCoding
import ProtoJSON
import RPCModels
import TestModels
import Testing

@Suite("Requests from a JSON body and path and query parameters (google.api.http)")
struct RequestBuilderTests {
    private let schema = TestSchema.shared

    private func builder(_ type: String) throws -> ProtoJSONRequestBuilder {
        try ProtoJSONRequestBuilder(schema: schema, messageType: type)
    }

    @Test func wholeBodyWithAPathParameterThatOverridesIt() throws {
        for bodyFirst in [true, false] {
            var request = try builder("agentplane.v1.UpdateAgentRequest")
            let body = Array(#"{"agentId":"from-body","name":"Desk","tags":["a"],"metadata":{"k":"v"}}"#.utf8)
            if bodyFirst { try request.mergeBody(body, field: "*") }
            try request.setParameter(path: ["agent_id"], text: "from-path")
            if !bodyFirst { try request.mergeBody(body, field: nil) }
            let decoded = try Agentplane_V1_UpdateAgentRequest(serializedBytes: request.wireBytes())
            #expect(
                decoded
                    == Agentplane_V1_UpdateAgentRequest(
                        agentID: "from-path", name: "Desk", tags: ["a"], metadata: ["k": "v"]))
        }
    }

    @Test func bodyIntoOneFieldAndParametersBesideIt() throws {
        var request = try builder("agentplane.v1.UpdateTenantSettingsRequest")
        try request.mergeBody(
            Array(#"{"maxDocumentBytes":"1048576","conversationRetention":"86400s"}"#.utf8), field: "settings")
        try request.setParameter(path: ["expected_revision"], text: "7")
        try request.setParameter(path: ["displayName"], text: "Acme GmbH")
        let decoded = try Agentplane_V1_UpdateTenantSettingsRequest(serializedBytes: request.wireBytes())
        #expect(decoded.settings?.maxDocumentBytes == 1_048_576)
        #expect(decoded.settings?.conversationRetention == Google_Protobuf_Duration(seconds: 86_400))
        #expect(decoded.expectedRevision == 7)
        #expect(decoded.displayName == "Acme GmbH")
        // A parameter inside the body's field merges into it, field by field.
        var nested = try builder("agentplane.v1.UpdateTenantSettingsRequest")
        try nested.mergeBody(Array(#"{"defaultChatModel":"m","maxDocumentBytes":5}"#.utf8), field: "settings")
        try nested.setParameter(path: ["settings", "max_document_bytes"], text: "6")
        let merged = try Agentplane_V1_UpdateTenantSettingsRequest(serializedBytes: nested.wireBytes())
        #expect(merged.settings?.defaultChatModel == "m")
        #expect(merged.settings?.maxDocumentBytes == 6)
        // Errors in the body name the field the body went into.
        var bad = try builder("agentplane.v1.UpdateTenantSettingsRequest")
        let error = #expect(throws: ProtoJSONError.self) {
            try bad.mergeBody(Array(#"{"maxDocumentBytes":"x"}"#.utf8), field: "settings")
        }
        #expect(error?.path == "settings.maxDocumentBytes")
        #expect(throws: ProtoJSONError.self) { try bad.mergeBody(Array("{}".utf8), field: "nope") }
    }

    @Test func timestampsAndDurationsAreParametersInTheirStringForm() throws {
        var request = try builder("agentplane.v1.GetUsageRequest")
        try request.setParameter(path: ["start_time"], text: "2026-12-06T15:24:13.5Z")
        let decoded = try Agentplane_V1_GetUsageRequest(serializedBytes: request.wireBytes())
        #expect(decoded.startTime?.seconds == 1_796_570_653)
        #expect(decoded.startTime?.nanos == 500_000_000)
        var bad = try builder("agentplane.v1.GetUsageRequest")
        let error = #expect(throws: ProtoJSONError.self) {
            try bad.setParameter(path: ["end_time"], text: "yesterday")
        }
        #expect(error?.path == "end_time")
    }

    @Test func queryParametersOfEveryKind() throws {
        var request = try builder("agentplane.v1.ListAgentsRequest")
        try request.setParameter(path: ["page_size"], text: "50")
        try request.setParameter(path: ["tags"], text: "a")
        try request.setParameter(path: ["tags"], text: "b c")
        try request.setParameter(path: ["nameContains"], text: "désk")
        #expect(
            try Agentplane_V1_ListAgentsRequest(serializedBytes: request.wireBytes())
                == Agentplane_V1_ListAgentsRequest(pageSize: 50, tags: ["a", "b c"], nameContains: "désk"))

        var scalars = try builder("agentplane.test.v1.Scalars")
        let parameters: [(String, String)] = [
            ("f_double", "NaN"), ("f_float", "-1.5e3"), ("f_int32", "-007"), ("f_int64", "-9223372036854775808"),
            ("f_uint32", "4294967295"), ("f_uint64", "18446744073709551615"), ("f_sint32", "-3"),
            ("f_sint64", "4"), ("f_fixed32", "5"), ("f_fixed64", "6"), ("f_sfixed32", "-7"), ("f_sfixed64", "-8"),
            ("f_bool", "true"), ("f_string", ""), ("f_bytes", "AAF_gP8"), ("f_color", "COLOR_GREEN"),
        ]
        for (name, text) in parameters { try scalars.setParameter(path: [name], text: text) }
        let decoded = try Agentplane_Test_V1_Scalars(serializedBytes: scalars.wireBytes())
        #expect(decoded.fDouble.isNaN)
        var expected = Agentplane_Test_V1_Scalars(
            fFloat: -1500, fInt32: -7, fInt64: .min, fUint32: .max, fUint64: .max, fSint32: -3, fSint64: 4,
            fFixed32: 5, fFixed64: 6, fSfixed32: -7, fSfixed64: -8, fBool: true, fBytes: Data([0, 1, 127, 128, 255]),
            fColor: .green)
        expected.fDouble = decoded.fDouble
        #expect(decoded.fFloat == expected.fFloat && decoded.fBytes == expected.fBytes && decoded.fInt64 == .min)
        #expect(decoded.fColor == .green && decoded.fSint32 == -3 && decoded.fUint64 == .max)

        var roles = try builder("agentplane.v1.CreateApiKeyRequest")
        try roles.setParameter(path: ["roles"], text: "ROLE_ADMIN")
        try roles.setParameter(path: ["roles"], text: "1")
        let decodedRoles = try Agentplane_V1_CreateApiKeyRequest(serializedBytes: roles.wireBytes()).roles
        #expect(decodedRoles.count == 2)
        #expect(decodedRoles.first == .admin)
        #expect(decodedRoles.last?.rawValue == 1)
    }

    @Test func nestedParameterPaths() throws {
        var request = try builder("agentplane.test.v1.Outer")
        try request.setParameter(path: ["inner", "name"], text: "x")
        try request.setParameter(path: ["inner", "level"], text: "LEVEL_HIGH")
        try request.setParameter(path: ["self_id"], text: "12")
        #expect(
            try Agentplane_Test_V1_Outer(serializedBytes: request.wireBytes())
                == Agentplane_Test_V1_Outer(inner: .init(level: .high, name: "x"), selfID: 12))
    }

    @Test func parameterOverridesTheBodysOneofMember() throws {
        var request = try builder("agentplane.test.v1.Choice")
        try request.mergeBody(Array(#"{"text":"from body","before":"b"}"#.utf8), field: nil)
        try request.setParameter(path: ["number"], text: "9")
        #expect(
            try Agentplane_Test_V1_Choice(serializedBytes: request.wireBytes())
                == Agentplane_Test_V1_Choice(before: "b", pick: .number(9)))
    }

    @Test func badParameters() throws {
        let cases: [(type: String, path: [String], text: String, errorPath: String, reason: String)] = [
            ("agentplane.v1.GetAgentRequest", ["nope"], "1", "nope", #"unknown field "nope""#),
            ("agentplane.v1.GetAgentRequest", ["version"], "12abc", "version", "expected a decimal integer (int32)"),
            ("agentplane.v1.GetAgentRequest", ["version"], "1.5", "version", "expected a decimal integer"),
            ("agentplane.v1.GetAgentRequest", ["version"], "+1", "version", "expected a decimal integer"),
            ("agentplane.v1.GetAgentRequest", ["version"], "", "version", "expected a decimal integer"),
            ("agentplane.v1.GetAgentRequest", ["version"], "2147483648", "version", "out of range for int32"),
            ("agentplane.v1.GetAgentRequest", ["include_tools"], "yes", "include_tools", "expected true or false"),
            ("agentplane.v1.GetAgentRequest", ["include_tools"], "1", "include_tools", "expected true or false"),
            ("agentplane.test.v1.Scalars", ["f_color"], "PURPLE", "f_color", "unknown value"),
            ("agentplane.test.v1.Scalars", ["f_bytes"], "!", "f_bytes", "base64"),
            ("agentplane.test.v1.Scalars", ["f_float"], "1e39", "f_float", "out of range for float"),
            ("agentplane.test.v1.Scalars", ["f_uint64"], String(repeating: "9", count: 200), "f_uint64", "longer than"),
            ("agentplane.test.v1.Outer", ["inner"], "x", "inner", "a message field cannot be set"),
            ("agentplane.test.v1.Outer", ["by_name"], "x", "by_name", "a map field cannot be set"),
            ("agentplane.test.v1.Outer", ["inners", "name"], "x", "inners", "not a singular message field"),
            ("agentplane.test.v1.Outer", ["self_id", "x"], "x", "self_id", "not a singular message field"),
            ("agentplane.test.v1.Outer", ["inner", "nope"], "x", "inner.nope", "unknown field"),
            ("agentplane.test.v1.Outer", [], "x", "", "a parameter path of 0 names"),
        ]
        for bad in cases {
            var request = try builder(bad.type)
            let error = #expect(throws: ProtoJSONError.self, "\(bad.path)") {
                try request.setParameter(path: bad.path, text: bad.text)
            }
            #expect(error?.path == bad.errorPath, "\(String(describing: error))")
            #expect(error?.reason.contains(bad.reason) == true, "\(String(describing: error))")
        }
        var twice = try builder("agentplane.v1.GetAgentRequest")
        try twice.setParameter(path: ["agent_id"], text: "a")
        #expect(throws: ProtoJSONError.self) { try twice.setParameter(path: ["agentId"], text: "b") }
        var oneof = try builder("agentplane.test.v1.Choice")
        try oneof.setParameter(path: ["text"], text: "a")
        let error = #expect(throws: ProtoJSONError.self) { try oneof.setParameter(path: ["number"], text: "1") }
        #expect(error?.reason.contains(#"oneof "pick" already has "text" set"#) == true)
        #expect(throws: ProtoJSONError.self) { try ProtoJSONRequestBuilder(schema: schema, messageType: "nope.Nope") }
    }
}
