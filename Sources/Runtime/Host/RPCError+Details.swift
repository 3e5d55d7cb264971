public import RPCCore
public import RPCModels
import RuntimeObservability

extension RPCError {
    /// The trailer that carries a serialized `agentplane.v1.ErrorDetails` (see common.proto).
    public static let detailsMetadataKey = "agentplane-error-details-bin"

    /// An error with structured details in the `agentplane-error-details-bin` trailer: a
    /// stable reason, the offending fields, when to retry. The request id of the call being
    /// served is added, so a caller can quote it.
    public static func withDetails(
        _ code: Status.Code, _ message: String, reason: String, violations: [Agentplane_V1_FieldViolation] = [],
        retryAfter: Duration? = nil
    ) -> RPCError {
        var details = Agentplane_V1_ErrorDetails()
        details.reason = reason
        details.violations = violations
        details.retryAfter = retryAfter.map { Google_Protobuf_Duration($0) }
        details.requestID = RequestID.current ?? ""
        var metadata = Metadata()
        metadata.addBinary(details.serializedBytes(), forKey: detailsMetadataKey)
        return RPCError(code: code, message: message, metadata: metadata)
    }

    /// INVALID_ARGUMENT naming one field: what is wrong and how to fix it.
    public static func invalidField(_ field: String, code: String, _ explanation: String) -> RPCError {
        var violation = Agentplane_V1_FieldViolation()
        violation.field = field
        violation.code = code
        violation.explanation = explanation
        return withDetails(
            .invalidArgument, "\(field): \(explanation)", reason: "INVALID_ARGUMENT", violations: [violation])
    }

    /// The structured details a failed call carried, if any.
    public var details: Agentplane_V1_ErrorDetails? {
        metadata[binaryValues: Self.detailsMetadataKey].first.flatMap {
            try? Agentplane_V1_ErrorDetails(serializedBytes: $0)
        }
    }
}
