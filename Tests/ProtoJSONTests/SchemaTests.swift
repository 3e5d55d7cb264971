import FoundationEssentials
import ProtoCoding
import ProtoJSON
import RPCModels
import TestModels
import Testing

@Suite("The schema built from the compiled-in descriptors")
struct SchemaTests {
    private let schema = TestSchema.shared

    @Test func everyContractMessageAndItsFieldTypesResolve() throws {
        for type in AgentplaneProtoFiles.requestTypes {
            let message = try #require(schema.message(type.protoMessageName), "\(type.protoMessageName)")
            for field in message.fields {
                switch field.kind {
                case .message(let name): #expect(schema.message(name) != nil, "\(name)")
                case .enumeration(let name): #expect(schema.enumeration(name) != nil, "\(name)")
                default: break
                }
            }
        }
        #expect(schema.message(".agentplane.v1.Agent") == nil, "names have no leading dot")
        #expect(schema.messageNames.contains("agentplane.test.v1.Outer.Inner"))
    }

    @Test func fieldsByNameNumberAndJSONName() throws {
        let request = try #require(schema.message("agentplane.v1.ListAgentsRequest"))
        let byProtoName = try #require(request.field(named: "page_size"))
        #expect(byProtoName.jsonName == "pageSize")
        #expect(byProtoName.number == 1)
        #expect(byProtoName.kind == .int32)
        #expect(request.field(named: "pageSize")?.number == 1)
        #expect(request.field(number: 3)?.name == "tags")
        #expect(request.field(number: 3)?.isRepeated == true)
        #expect(request.field(named: "PageSize") == nil)
        #expect(request.fields.map(\.number) == request.fields.map(\.number).sorted())
    }

    /// protoc writes json_name into the descriptors; our rule for computing it agrees on every field.
    @Test func computedJSONNamesMatchProtocs() {
        for name in schema.messageNames {
            for field in schema.message(name)?.fields ?? [] {
                #expect(ProtoSchema.jsonName(forFieldNamed: field.name) == field.jsonName, "\(name).\(field.name)")
            }
        }
        #expect(ProtoSchema.jsonName(forFieldNamed: "foo_bar_baz") == "fooBarBaz")
        #expect(ProtoSchema.jsonName(forFieldNamed: "foo__bar") == "fooBar")
        #expect(ProtoSchema.jsonName(forFieldNamed: "foo_1") == "foo1")
        #expect(ProtoSchema.jsonName(forFieldNamed: "_foo") == "Foo")
    }

    @Test func mapsOneofsEnumsAndPacking() throws {
        let agent = try #require(schema.message("agentplane.v1.Agent"))
        let metadata = try #require(agent.field(named: "metadata"))
        #expect(metadata.isMap && !metadata.isRepeated)
        #expect(metadata.mapKey == .string && metadata.mapValue == .string)

        let response = try #require(schema.message("agentplane.v1.SendMessageResponse"))
        #expect(response.oneofNames == ["item"])
        #expect(response.fields.map(\.oneofIndex) == [0, 0, 0])
        #expect(response.fields.allSatisfy { $0.hasPresence })

        let maps = try #require(schema.message("agentplane.test.v1.Maps"))
        #expect(maps.field(named: "sint32_to_color")?.mapKey == .sint32)
        #expect(maps.field(named: "sint32_to_color")?.mapValue == .enumeration("agentplane.test.v1.Color"))

        let repeated = try #require(schema.message("agentplane.test.v1.Repeated"))
        #expect(repeated.field(named: "r_int32")?.isPacked == true)
        #expect(repeated.field(named: "r_unpacked")?.isPacked == false)
        #expect(repeated.field(named: "r_string")?.isPacked == false)

        let color = try #require(schema.enumeration("agentplane.test.v1.Color"))
        #expect(color.values.first?.name == "COLOR_UNSPECIFIED")
        #expect(color.number(named: "COLOR_NEGATIVE") == -1)
        #expect(color.name(of: 2) == "COLOR_GREEN")
        #expect(color.name(of: 99) == nil)
        #expect(schema.enumeration("agentplane.test.v1.Outer.Inner.Level")?.name(of: 1) == "LEVEL_HIGH")

        let scalars = try #require(schema.message("agentplane.test.v1.Scalars"))
        #expect(scalars.fields.allSatisfy { !$0.hasPresence && $0.oneofIndex == nil && !$0.isProto3Optional })
    }

    @Test func aFileGivenTwiceIsReadOnce() throws {
        let twice = try ProtoSchema(files: AgentplaneProtoFiles.all + AgentplaneProtoFiles.all)
        #expect(twice.messageNames == (try ProtoSchema(files: AgentplaneProtoFiles.all)).messageNames)
    }

    @Test func aMissingDependencyIsAnError() {
        // The test protos refer to google.protobuf.Timestamp, which only the contract's files carry.
        let error = #expect(throws: ProtoJSONError.self) { try ProtoSchema(files: TestProtoFiles.all) }
        #expect(error?.reason.contains("google.protobuf") == true, "\(String(describing: error))")
    }

    @Test func aMalformedDescriptorIsAnError() {
        let garbage = ProtoFileDescriptor(
            name: "broken.proto", package: "broken", dependencies: [], symbols: [],
            descriptorBase64: Data([0x0A, 0xFF, 0x01]).base64EncodedString())
        let error = #expect(throws: ProtoJSONError.self) { try ProtoSchema(files: [garbage]) }
        #expect(error?.path == "broken.proto")
    }
}
