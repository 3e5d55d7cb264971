import Control
import FlowEngine
import FlowEngineProto
import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("Control tool kinds: the schemas served are the ones saves are checked against")
struct ToolKindTests {
    /// A minimal valid config of `kind` (what its cross-field rules need).
    static func baseConfig(_ kind: Agentplane_V1_ToolKind) -> [String: JSONValue] {
        kind == .http ? ["url": .string("https://api.example.com/v1")] : [:]
    }

    @Test("every kind served, to members and service tokens; schemas well formed; secrets write-only")
    func served() async throws {
        let fakes = try await FakeIntegrations.start()
        let (harness, tools) = try await ToolTests.start(fakes)
        let tenant = uniqueTenant()
        let member = try await bearer(role: .member, tenant: tenant)
        let kinds = try await tools.listToolKinds(.init(), metadata: member).kinds
        #expect(kinds.map(\.kind) == [.kbSearch, .ticketing, .notification, .llm, .http])
        for kind in kinds {
            #expect(!kind.title.isEmpty && !kind.description.isEmpty)
            let config = ProtoJSON.members(kind.configSchema)
            #expect(config["type"] == .string("object") && config["additionalProperties"] == .bool(false))
            let properties = config["properties"]?.objectValue ?? [:]
            #expect(properties.count > 0, "\(kind.kind)")
            // Each numbered for the form, 1…n.
            let places = properties.values.compactMap { $0.objectValue?["propertyOrder"]?.numberValue }.sorted()
            #expect(places == (1...properties.count).map(Double.init), "\(kind.kind)")
            let secrets = ProtoJSON.members(kind.secretsSchema)
            for (_, secret) in secrets["properties"]?.objectValue ?? [:] {
                #expect(secret.objectValue?["writeOnly"] == .bool(true))
            }
        }
        let bySchema = Dictionary(uniqueKeysWithValues: kinds.map { ($0.kind, ProtoJSON.members($0.secretsSchema)) })
        #expect(bySchema[.http]?["additionalProperties"] == .bool(true))
        #expect(bySchema[.ticketing]?["properties"]?.objectValue?.keys.sorted() == ["api_token"])
        let service = try await serviceBearer(service: "execution", tenant: tenant)
        #expect(try await tools.listToolKinds(.init(), metadata: service).kinds.count == kinds.count)
        #expect(await statusCode { try await tools.listToolKinds(.init()) } == .unauthenticated)
        try await harness.stop()
        await fakes.stop()
    }

    @Test("for every property of every served schema: its bounds and choices accepted at the edge, refused past it")
    func servedSchemasDriveValidation() async throws {
        let fakes = try await FakeIntegrations.start()
        let (harness, tools) = try await ToolTests.start(fakes)
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        var counter = 0
        func attempt(_ kind: Agentplane_V1_ToolKind, _ config: [String: JSONValue], secrets: [String: String] = [:])
            async -> RPCError?
        {
            counter += 1
            var request = Agentplane_V1_CreateToolRequest()
            request.name = "kind-\(counter)"
            request.kind = kind
            request.config = ProtoJSON.structure(config)
            request.secrets = secrets
            request.enabled = true
            return await rpcError { try await tools.createTool(request, metadata: builder) }
        }
        let kinds = try await tools.listToolKinds(.init(), metadata: builder).kinds
        var checked = 0
        for kind in kinds {
            let schema = ProtoJSON.members(kind.configSchema)
            #expect(
                violationFields(
                    await attempt(kind.kind, Self.baseConfig(kind.kind).merging(["no_such_key": .bool(true)]) { $1 }))
                    == ["config.no_such_key"])
            for (key, property) in schema["properties"]?.objectValue ?? [:] {
                let property = property.objectValue ?? [:]
                var good = Self.baseConfig(kind.kind)
                var bad = good
                if let choices = property["enum"]?.arrayValue, let first = choices.first {
                    good[key] = first
                    bad[key] = .string("not-a-choice")
                } else if let maximum = property["maximum"]?.numberValue {
                    good[key] = .number(maximum)
                    bad[key] = .number(maximum + 1)
                } else if let maximum = property["maxLength"]?.numberValue {
                    let uri = property["format"] == .string("uri")
                    good[key] = .string(uri ? "https://z.example.com" : "x")
                    bad[key] = .string((uri ? "https://" : "") + String(repeating: "x", count: Int(maximum) + 1))
                } else {
                    continue
                }
                // The enum's first choice of a ticketing backend / notification channel needs no secret.
                #expect(await attempt(kind.kind, good) == nil, "\(kind.kind).\(key) = \(good[key]!)")
                #expect(violationFields(await attempt(kind.kind, bad)).contains("config." + key), "\(kind.kind).\(key)")
                checked += 1
            }
        }
        #expect(checked >= 12)
        try await harness.stop()
        await fakes.stop()
    }
}
