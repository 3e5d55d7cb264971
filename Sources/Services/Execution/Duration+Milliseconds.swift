import Saturating

extension Duration {
    /// Whole milliseconds, saturating (a configured or requested duration of any size converts
    /// without trapping).
    var milliseconds: Int64 { saturatingMilliseconds }
}
