import Foundation
import MLP

/// `--log-format json`: each log line as one JSON object on one line, for
/// machines (log shippers, `jq`):
///
///     {"time":"2026-12-03T12:00:01.250Z","level":"info","source":"coordinator","message":"worker 1 (host:4242) joined; 1 live"}
///     {"time":"...","level":"info","source":"training","event":"epoch","epoch":1,"step":469,"loss":0.3121,...}
///
/// `level` is info, warning or debug (and error for the line a failed
/// command ends with); `source` is the part before the first ": " when it is
/// one word (coordinator, worker, launch, dptrain), else "dptrain".
public enum LogRecord {
    public static func line(_ text: String, level: String, time: Date = Date()) -> String {
        var source = "dptrain", message = Substring(text)
        if let colon = text.range(of: ": "), !text[..<colon.lowerBound].contains(" "), colon.lowerBound > text.startIndex {
            source = String(text[..<colon.lowerBound])
            message = text[colon.upperBound...]
        }
        return "{\"time\":\(JSONText.quoted(timestamp(time))),\"level\":\(JSONText.quoted(level)),\"source\":\(JSONText.quoted(source)),\"message\":\(JSONText.quoted(String(message)))}"
    }

    /// An epoch's metrics.jsonl fields, as a record.
    public static func epoch(_ metrics: EpochMetrics, time: Date = Date()) -> String {
        "{\"time\":\(JSONText.quoted(timestamp(time))),\"level\":\"info\",\"source\":\"training\",\"event\":\"epoch\","
            + metrics.jsonLine.dropFirst()
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ time: Date) -> String {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
                      Int(milliseconds % 1000))
    }
}
