private import CProtobufC
private import CProtocPlugin

/// Why the plugin could not run.
struct PluginError: Error, CustomStringConvertible {
    var description: String
}

/// protoc's `CodeGeneratorRequest`, unpacked by protobuf-c and read into the generator's model.
struct PluginRequest {
    var parameter: String
    var filesToGenerate: [String]
    var files: [ProtoFile]

    init(bytes: [UInt8]) throws {
        guard
            let request = bytes.withUnsafeBufferPointer({
                google__protobuf__compiler__code_generator_request__unpack(nil, $0.count, $0.baseAddress)
            })
        else { throw PluginError(description: "stdin is not a CodeGeneratorRequest") }
        defer { google__protobuf__compiler__code_generator_request__free_unpacked(request, nil) }

        parameter = string(request.pointee.parameter)
        filesToGenerate = (0..<request.pointee.n_file_to_generate).map {
            string(request.pointee.file_to_generate[$0])
        }
        files = (0..<request.pointee.n_proto_file).map {
            FileReader(request.pointee.proto_file[$0]!).read()
        }
    }
}

private func string(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

private func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

/// Reads one FileDescriptorProto, attaching comments from its source info.
private struct FileReader {
    let file: UnsafeMutablePointer<Google__Protobuf__FileDescriptorProto>
    var comments: [[Int32]: String] = [:]

    init(_ file: UnsafeMutablePointer<Google__Protobuf__FileDescriptorProto>) {
        self.file = file
        if let info = file.pointee.source_code_info {
            for index in 0..<info.pointee.n_location {
                let location = info.pointee.location[index]!.pointee
                guard let leading = location.leading_comments else { continue }
                let path = Array(UnsafeBufferPointer(start: location.path, count: location.n_path))
                comments[path] = String(cString: leading)
            }
        }
    }

    func read() -> ProtoFile {
        let f = file.pointee
        let package = string(f.package)
        let prefix = package.isEmpty ? "" : package + "."
        let messages = (0..<f.n_message_type).map {
            message(f.message_type[$0]!, prefix: prefix, path: [4, Int32($0)])
        }
        let enums = (0..<f.n_enum_type).map {
            enumType(f.enum_type[$0]!, prefix: prefix, path: [5, Int32($0)])
        }
        let services = (0..<f.n_service).map {
            service(f.service[$0]!, prefix: prefix, path: [6, Int32($0)])
        }
        return ProtoFile(
            name: string(f.name), package: package,
            dependencies: (0..<f.n_dependency).map { string(f.dependency[$0]) },
            messages: messages, enums: enums, services: services,
            serializedDescriptor: serializedWithoutSourceInfo())
    }

    private func serializedWithoutSourceInfo() -> [UInt8] {
        let info = file.pointee.source_code_info
        file.pointee.source_code_info = nil
        defer { file.pointee.source_code_info = info }
        let size = google__protobuf__file_descriptor_proto__get_packed_size(file)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = google__protobuf__file_descriptor_proto__pack(file, buffer.baseAddress!)
        }
    }

    private func message(
        _ pointer: UnsafeMutablePointer<Google__Protobuf__DescriptorProto>, prefix: String, path: [Int32]
    ) -> MessageType {
        let m = pointer.pointee
        let name = string(m.name)
        let fullName = prefix + name
        let fields = (0..<m.n_field).map { index -> Field in
            let f = m.field[index]!.pointee
            let isOneof = f.has_oneof_index != 0 && !(f.has_proto3_optional != 0 && f.proto3_optional != 0)
            return Field(
                name: string(f.name), jsonName: string(f.json_name), number: f.number,
                label: f.label.rawValue == 3 ? .repeated : .singular,
                kind: FieldKind(rawValue: Int32(truncatingIfNeeded: f.type.rawValue)) ?? .group,
                typeName: string(f.type_name),
                oneofIndex: isOneof ? Int(f.oneof_index) : nil,
                comment: comments[path + [2, Int32(index)]] ?? "")
        }
        return MessageType(
            fullName: fullName, name: name, fields: fields,
            oneofNames: (0..<m.n_oneof_decl).map { string(m.oneof_decl[$0]!.pointee.name) },
            nestedMessages: (0..<m.n_nested_type).map {
                message(m.nested_type[$0]!, prefix: fullName + ".", path: path + [3, Int32($0)])
            },
            nestedEnums: (0..<m.n_enum_type).map {
                enumType(m.enum_type[$0]!, prefix: fullName + ".", path: path + [4, Int32($0)])
            },
            isMapEntry: m.options.map { $0.pointee.has_map_entry != 0 && $0.pointee.map_entry != 0 } ?? false,
            comment: comments[path] ?? "")
    }

    private func enumType(
        _ pointer: UnsafeMutablePointer<Google__Protobuf__EnumDescriptorProto>, prefix: String,
        path: [Int32]
    ) -> EnumType {
        let e = pointer.pointee
        let name = string(e.name)
        return EnumType(
            fullName: prefix + name, name: name,
            values: (0..<e.n_value).map {
                let v = e.value[$0]!.pointee
                return (string(v.name), v.number, comments[path + [2, Int32($0)]] ?? "")
            },
            comment: comments[path] ?? "")
    }

    private func service(
        _ pointer: UnsafeMutablePointer<Google__Protobuf__ServiceDescriptorProto>, prefix: String,
        path: [Int32]
    ) -> ServiceType {
        let s = pointer.pointee
        let name = string(s.name)
        return ServiceType(
            fullName: prefix + name, name: name,
            methods: (0..<s.n_method).map {
                let m = s.method[$0]!.pointee
                return ServiceType.Method(
                    name: string(m.name), inputType: string(m.input_type),
                    outputType: string(m.output_type),
                    clientStreaming: m.has_client_streaming != 0 && m.client_streaming != 0,
                    serverStreaming: m.has_server_streaming != 0 && m.server_streaming != 0,
                    comment: comments[path + [2, Int32($0)]] ?? "")
            },
            comment: comments[path] ?? "")
    }
}
