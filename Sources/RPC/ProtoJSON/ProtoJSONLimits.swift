/// Bounds on what the JSON mapping accepts, so that hostile input is refused with an error
/// instead of exhausting the stack or the memory.
public struct ProtoJSONLimits: Sendable, Hashable {
    /// The deepest nesting of JSON objects and arrays (a message is an object, a repeated field an
    /// array), in input and in output; the top-level object is depth 1. Default 64.
    public var maxDepth: Int
    /// The longest number literal, counted in characters, whether a JSON number or a number in a
    /// string (`"123"`). Default 128.
    public var maxNumberLength: Int
    /// The largest string (after unescaping, in UTF-8 bytes), object keys included; nil for no
    /// bound beyond the size of the input. Default nil.
    public var maxStringBytes: Int?

    /// The defaults: depth 64, numbers of up to 128 characters, strings unbounded.
    public static let defaults = ProtoJSONLimits()

    /// Limits with the given bounds.
    public init(maxDepth: Int = 64, maxNumberLength: Int = 128, maxStringBytes: Int? = nil) {
        self.maxDepth = maxDepth
        self.maxNumberLength = maxNumberLength
        self.maxStringBytes = maxStringBytes
    }
}
