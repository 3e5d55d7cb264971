private import CProtobufC
private import CProtocPlugin
private import Glibc

/// protoc's `CodeGeneratorResponse`: the files to write, or an error; packed by protobuf-c.
struct PluginResponse {
    var files: [(name: String, content: String)] = []
    var error: String?

    /// The packed response.
    func serialized() -> [UInt8] {
        var response = Google__Protobuf__Compiler__CodeGeneratorResponse()
        google__protobuf__compiler__code_generator_response__init(&response)
        // FEATURE_PROTO3_OPTIONAL: the contract never uses it, but protoc asks plugins to say so.
        response.has_supported_features = 1
        response.supported_features = 1

        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { cStrings.forEach { free($0) } }
        func duplicate(_ string: String) -> UnsafeMutablePointer<CChar> {
            let copy = strdup(string)!
            cStrings.append(copy)
            return copy
        }

        if let error { response.error = duplicate(error) }
        var entries = files.map { file -> Google__Protobuf__Compiler__CodeGeneratorResponse__File in
            var entry = Google__Protobuf__Compiler__CodeGeneratorResponse__File()
            google__protobuf__compiler__code_generator_response__file__init(&entry)
            entry.name = duplicate(file.name)
            entry.content = duplicate(file.content)
            return entry
        }
        return entries.withUnsafeMutableBufferPointer { entryBuffer in
            var pointers: [UnsafeMutablePointer<Google__Protobuf__Compiler__CodeGeneratorResponse__File>?] =
                (0..<entryBuffer.count).map { entryBuffer.baseAddress! + $0 }
            return pointers.withUnsafeMutableBufferPointer { pointerBuffer in
                response.n_file = pointerBuffer.count
                response.file = pointerBuffer.baseAddress
                let size = google__protobuf__compiler__code_generator_response__get_packed_size(&response)
                return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                    count = google__protobuf__compiler__code_generator_response__pack(&response, buffer.baseAddress!)
                }
            }
        }
    }
}
