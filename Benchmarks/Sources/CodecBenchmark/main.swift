// Times encode, decode and encode+decode of contract messages with our codec (RPCModels over
// protobuf-c) and with swift-protobuf, interleaved in rounds, and prints the medians.
//
// Usage: CodecBenchmark [--rounds N] [--iterations N] [--warmup N] [--only FILTER]
//   --rounds      timed rounds (default 15); the table shows each contender's median
//   --iterations  operations per timing for the Agent (default 5000); the 3-field messages,
//                 far cheaper, run 20 times as many
//   --warmup      untimed rounds first (default 1)
//   --only        run only the contenders whose "message/operation/side" label contains FILTER,
//                 e.g. "agent/decode/ours" (for profilers); other contenders still set up

#if canImport(Glibc)
    import Glibc
#endif

/// Prints `message` to standard error and exits with status 2.
func fail(_ message: String) -> Never {
    let line = Array("CodecBenchmark: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

var rounds = 15
var iterations = 5_000
var warmup = 1
var only: String?
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
    switch flag {
    case "--rounds": rounds = Int(value) ?? 0
    case "--iterations": iterations = Int(value) ?? 0
    case "--warmup": warmup = Int(value) ?? -1
    case "--only": only = value
    default: fail("unknown flag \(flag); flags: --rounds N --iterations N --warmup N --only FILTER")
    }
}
guard rounds > 0, iterations > 0, warmup >= 0 else { fail("--rounds and --iterations must be positive") }

let messages: [(name: String, label: String, iterations: Int, ours: Contender, theirs: Contender)] = [
    ("Agent (a)", "agent", iterations, Ours.agent(), Theirs.agent()),
    ("TokenUsage (b)", "tokenusage", iterations * 20, Ours.tokenUsage(), Theirs.tokenUsage()),
    ("FieldViolation (b2)", "fieldviolation", iterations * 20, Ours.fieldViolation(), Theirs.fieldViolation()),
]

// The cross-check: each library decodes the other's encoding to its own sample, so both
// contenders code the same message.
for message in messages {
    guard message.theirs.decodesEqual(message.ours.encoded), message.ours.decodesEqual(message.theirs.encoded) else {
        fail("\(message.name): the two libraries' samples differ")
    }
    // Equal messages may still encode differently: map order, and protobuf-c leaves out a map
    // entry's default key or value where swift-protobuf writes it (both are valid encodings).
    let sizes = "ours \(message.ours.encoded.count) / swift-protobuf \(message.theirs.encoded.count) bytes"
    let identical = message.ours.encoded == message.theirs.encoded ? "byte-identical" : "encodings differ"
    print("\(pad(message.name, 20)) \(sizes), cross-checked equal (\(identical))")
}

/// `body` when `filter` (from `--only`) selects `label`, else a body that does nothing.
func selected(_ body: @escaping Body, _ label: String, filter: String?) -> Body {
    guard let filter, !label.contains(filter) else { return body }
    return { _ in 0 }
}

var harness = Harness()
for message in messages {
    let operations: [(String, String, KeyPath<Contender, Body>)] = [
        ("encode", "encode", \.encode), ("decode", "decode", \.decode),
        ("encode+decode", "roundtrip", \.encodeDecode),
    ]
    for (operation, label, body) in operations {
        harness.cases.append(
            Case(
                message: message.name, operation: operation, iterations: message.iterations,
                ours: selected(message.ours[keyPath: body], "\(message.label)/\(label)/ours", filter: only),
                theirs: selected(message.theirs[keyPath: body], "\(message.label)/\(label)/theirs", filter: only)))
    }
}

print("rounds \(rounds) (+\(warmup) warm-up), iterations \(iterations) per timing (x20 for the 3-field messages)")
harness.run(rounds: rounds, warmup: warmup)

let widths = [20, 14, 12, 8, 16, 8, 12]
let header = ["message", "operation", "ours ns/op", "spread", "swift-protobuf", "spread", "ours/theirs"]
print(zip(header, widths).enumerated().map { pad($1.0, $1.1, right: $0 > 1) }.joined(separator: " "))
for row in harness.cases {
    let ours = Stats(row.oursSamples)
    let theirs = Stats(row.theirsSamples)
    let ratio = theirs.median > 0 ? fixed(ours.median / theirs.median, 2) : "-"
    let cells = [
        row.message, row.operation, fixed(ours.median, 1), fixed(ours.spread * 100, 0) + "%",
        fixed(theirs.median, 1), fixed(theirs.spread * 100, 0) + "%", ratio,
    ]
    print(zip(cells, widths).enumerated().map { pad($1.0, $1.1, right: $0 > 1) }.joined(separator: " "))
}
print("spread: (max - min) / median over the rounds; sink \(harness.sink)")
