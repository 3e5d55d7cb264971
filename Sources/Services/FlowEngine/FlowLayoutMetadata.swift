/// The editor's data kept in a flow document under `metadata` (docs/FLOWS.md, "Layout metadata"):
/// `{"positions": {"<node id>": {"x": 120, "y": 40}}}`. The engine ignores it when running; the
/// validator checks its shape and size so a stored flow's metadata stays small and well formed.
public enum FlowLayoutMetadata {
    /// The largest `metadata` value, in bytes of compact JSON (64 KiB: a position for each of 500 nodes
    /// takes about 25 KiB).
    public static let maxBytes = 65_536
    /// The largest absolute coordinate a position may have.
    public static let maxCoordinate = 1_000_000.0

    /// Checks `metadata` against the node ids; positions of unknown nodes are warnings (stale, harmless).
    static func check(
        _ value: JSONValue?, nodeIDs: Set<String>, errors: inout [FlowIssue], warnings: inout [FlowIssue]
    ) {
        guard let value else { return }
        guard let members = value.objectValue else {
            errors.append(FlowIssue(path: "$.metadata", code: "INVALID_VALUE", message: "metadata must be an object"))
            return
        }
        if value.encodedSize(limit: maxBytes) > maxBytes {
            errors.append(
                FlowIssue(
                    path: "$.metadata", code: "LIMIT_EXCEEDED",
                    message: "metadata may take at most \(maxBytes) bytes as compact JSON"))
            return
        }
        guard let raw = members["positions"] else { return }
        guard let positions = raw.objectValue else {
            errors.append(
                FlowIssue(
                    path: "$.metadata.positions", code: "INVALID_VALUE",
                    message: "positions must be an object of node id → {x, y}"))
            return
        }
        for id in positions.keys.sorted() {
            let path = "$.metadata.positions.\(id)"
            guard let position = positions[id]?.objectValue,
                let x = position["x"]?.numberValue, let y = position["y"]?.numberValue,
                x.isFinite, y.isFinite, abs(x) <= maxCoordinate, abs(y) <= maxCoordinate
            else {
                errors.append(
                    FlowIssue(
                        path: path, code: "INVALID_VALUE",
                        message: "a position is {\"x\": number, \"y\": number}, each within ±\(Int(maxCoordinate))"))
                continue
            }
            if !nodeIDs.contains(id) {
                warnings.append(
                    FlowIssue(path: path, code: "STALE_POSITION", message: "no node has the id '\(id)'"))
            }
        }
    }
}
