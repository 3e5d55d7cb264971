// protoc-gen-agentplane: a protoc plugin that writes Swift value types (and their protobuf-c
// coding) for every message, enum and service of the files protoc hands it; or, given HTTP rules
// (option http_rules), the edge's route table, OpenAPI document and routes table.
private import Glibc

private func readStandardInput() -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return bytes
}

private func writeStandardOutput(_ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0, errno == EINTR { continue }
        if written <= 0 { exit(1) }
        offset += written
    }
}

var response = PluginResponse()
do {
    let request = try PluginRequest(bytes: readStandardInput())
    let options = try GeneratorOptions(parameter: request.parameter)
    let context = GeneratorContext(files: request.files, options: options)
    if let rulesFile = options.httpRules {
        // The edge's files from the HTTP rules, instead of the models (docs/CODEGEN.md, "HTTP rules").
        let http = try HTTPGenerator(options: options, rulesFile: rulesFile, request: request, types: context.types)
        response.files = try http.files()
    } else {
        let generators = request.files
            .filter { request.filesToGenerate.contains($0.name) }
            .map { FileGenerator(file: $0, context: context) }
        response.files = generators.map { ($0.outputName, $0.generate()) }
        response.files.append(
            (options.registry + ".pb.swift", FileGenerator.registry(generators, name: options.registry)))
    }
} catch {
    response.error = "\(error)"
}
writeStandardOutput(response.serialized())
