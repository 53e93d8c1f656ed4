import Foundation

/// metrics.jsonl read back: one entry per epoch, the last line of an epoch
/// winning (a resumed run never repeats one, but a hand-edited file might).
public struct EpochFigures {
    public var epoch: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var testLoss: Double?
    public var testAccuracy: Double
    public var learningRate: Double
    public var samplesPerSecond: Double
    public var workers: Int
    public var elapsedSeconds: Double

    public static func read(_ url: URL) throws -> [EpochFigures] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw ReportError(path: url.path, problem: "missing or unreadable (is this a run folder?)")
        }
        var byEpoch: [Int: EpochFigures] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let epoch = object["epoch"] as? Int else {
                throw ReportError(path: url.path, problem: "line \(index + 1) is not a JSON object with an epoch")
            }
            func number(_ key: String) throws -> Double {
                guard let value = object[key] as? Double else {
                    throw ReportError(path: url.path, problem: "line \(index + 1) lacks a number for \(key)")
                }
                return value
            }
            byEpoch[epoch] = EpochFigures(
                epoch: epoch, loss: try number("loss"), trainAccuracy: try number("train_accuracy"),
                testLoss: object["test_loss"] as? Double, testAccuracy: try number("test_accuracy"),
                learningRate: try number("lr"), samplesPerSecond: try number("samples_per_second"),
                workers: Int(try number("workers")), elapsedSeconds: try number("elapsed_seconds"))
        }
        guard !byEpoch.isEmpty else { throw ReportError(path: url.path, problem: "holds no epoch yet") }
        return byEpoch.keys.sorted().map { byEpoch[$0]! }
    }
}
