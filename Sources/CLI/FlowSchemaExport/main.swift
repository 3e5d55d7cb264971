// Prints the schema of flow documents that the engine exports (`FlowSchema.current`: node kinds,
// their fields, channel declarations, limits) as JSON. `scripts/generate` writes it into the web
// console (web/src/builder/schema.generated.ts), so the flow builder's forms come from the engine.
import FlowEngine
import Foundation

let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
let data = try encoder.encode(FlowSchema.current)
FileHandle.standardOutput.write(data)
FileHandle.standardOutput.write(Data("\n".utf8))
