import FlowEngine
import Foundation

/// FlowCheckpoint's JSON, written by hand straight into bytes: the document its synthesized `Codable`
/// conformance reads back (so `JSONDecoder` decodes it), without JSONEncoder's cost on the per-step
/// hot path.
enum CheckpointCoding {
    /// The checkpoint as UTF-8 JSON.
    static func encode(_ checkpoint: FlowCheckpoint) -> [UInt8] {
        var out = JSONWriter()
        out.raw("{\"id\":")
        out.string(checkpoint.id)
        out.raw(",\"runID\":")
        out.string(checkpoint.runID)
        out.raw(",\"step\":")
        out.integer(checkpoint.step)
        out.raw(",\"nodeIDs\":")
        out.strings(checkpoint.nodeIDs)
        out.raw(",\"next\":")
        out.strings(checkpoint.next)
        out.raw(",\"deferred\":")
        out.strings(checkpoint.deferred)
        out.raw(",\"waiting\":{")
        for (index, (node, sources)) in checkpoint.waiting.enumerated() {
            if index > 0 { out.raw(",") }
            out.string(node)
            out.raw(":")
            out.strings(sources)
        }
        out.raw("},\"state\":")
        out.object(checkpoint.state)
        out.raw(",\"interrupts\":[")
        for (index, interrupt) in checkpoint.interrupts.enumerated() {
            out.raw(index > 0 ? ",{\"interruptID\":" : "{\"interruptID\":")
            out.string(interrupt.interruptID)
            out.raw(",\"nodeID\":")
            out.string(interrupt.nodeID)
            out.raw(",\"prompt\":")
            out.string(interrupt.prompt)
            out.raw(",\"choices\":")
            out.strings(interrupt.choices)
            out.raw("}")
        }
        out.raw("],\"sequence\":")
        out.integer(checkpoint.sequence)
        out.raw(",\"nodeExecutions\":")
        out.integer(checkpoint.nodeExecutions)
        out.raw(",\"activeSeconds\":")
        out.number(checkpoint.activeSeconds)
        out.raw(",\"usage\":{\"promptTokens\":")
        out.integer(checkpoint.usage.promptTokens)
        out.raw(",\"completionTokens\":")
        out.integer(checkpoint.usage.completionTokens)
        out.raw("},\"completedSideEffects\":")
        out.object(checkpoint.completedSideEffects)
        // JSONDecoder's default date strategy: seconds since the reference date.
        out.raw(",\"createdAt\":")
        out.number(checkpoint.createdAt.timeIntervalSinceReferenceDate)
        out.raw("}")
        return out.bytes
    }

    /// Reads a checkpoint written by `encode`.
    static func decode(_ bytes: [UInt8]) throws -> FlowCheckpoint {
        try JSONDecoder().decode(FlowCheckpoint.self, from: Data(bytes))
    }
}

/// Appends compact JSON to a byte buffer.
struct JSONWriter {
    /// The JSON written so far.
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(1024)
    }

    /// Appends `text` as it is (JSON punctuation and keys that need no escaping).
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a decimal integer.
    mutating func integer(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Appends a number; `String(Double)` is the shortest text that reads back to the same value.
    mutating func number(_ value: Double) {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            integer(Int64(value))
        } else if value.isFinite {
            bytes.append(contentsOf: String(value).utf8)
        } else {
            raw("null")
        }
    }

    /// Appends a JSON string, escaping what JSON requires.
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])  // \u00XX
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends an array of strings.
    mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Appends an object (members in the dictionary's order: readers do not depend on it).
    mutating func object(_ members: [String: JSONValue]) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in members {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            string(key)
            bytes.append(UInt8(ascii: ":"))
            self.value(value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Appends any JSON value.
    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members): object(members)
        }
    }
}
