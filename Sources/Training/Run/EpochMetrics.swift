import Foundation

/// One line of metrics.jsonl. Keys are written in a fixed order so the file
/// diffs cleanly between runs; only the timing fields differ run to run.
public struct EpochMetrics: Equatable {
    public var epoch: Int
    public var step: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
    public var learningRate: Double
    public var samplesPerSecond: Double
    public var workers: Int
    public var elapsedSeconds: Double
    /// Share of the epoch's step time spent outside gradient computation.
    public var communicationFraction: Double?
    /// The averaged gradient's L2 norm before clipping over the epoch's
    /// steps, and the share of steps it clipped (with --clip-norm only).
    public var gradientNorm: GradientNormSummary?
    /// On the held-out validation samples (with --validation-fraction only).
    public var validationLoss: Double?
    public var validationAccuracy: Double?

    public var jsonLine: String {
        var fields: [(String, String)] = [
            ("epoch", "\(epoch)"), ("step", "\(step)"), ("loss", number(loss)),
            ("train_accuracy", number(trainAccuracy)), ("test_loss", number(testLoss)),
            ("test_accuracy", number(testAccuracy)), ("lr", number(learningRate)),
            ("samples_per_second", number(samplesPerSecond, digits: 1)), ("workers", "\(workers)"),
            ("elapsed_seconds", number(elapsedSeconds, digits: 3)),
        ]
        if let fraction = communicationFraction { fields.append(("comm_fraction", number(fraction, digits: 4))) }
        if let loss = validationLoss, let accuracy = validationAccuracy {
            fields.append(("val_loss", number(loss)))
            fields.append(("val_accuracy", number(accuracy)))
        }
        if let norm = gradientNorm {
            fields.append(("grad_norm", number(norm.mean)))
            fields.append(("grad_norm_max", number(norm.max)))
            fields.append(("clipped_fraction", number(norm.clippedFraction, digits: 4)))
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    public var terminalLine: String {
        String(format: "epoch %3d  loss %.4f  train %.4f  test %.4f  lr %.5g  %8.0f samples/s  %d worker%@  %.1fs",
               epoch, loss, trainAccuracy, testAccuracy, learningRate, samplesPerSecond, workers,
               workers == 1 ? "" : "s", elapsedSeconds)
    }
}

/// JSON has no NaN or infinity; a diverged run writes null rather than an invalid file.
private func number(_ value: Double, digits: Int = 6) -> String {
    guard value.isFinite else { return "null" }
    return String(format: "%.\(digits)f", value)
}

/// An epoch's gradient norms before clipping: their mean, their largest, and
/// the share of steps whose gradient the norm rule scaled down.
public struct GradientNormSummary: Equatable {
    public var mean: Double
    public var max: Double
    public var clippedFraction: Double
}
