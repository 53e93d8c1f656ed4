/// What an epoch adds up as its steps go by, for its metrics line. A
/// mid-epoch checkpoint carries it, so a resumed epoch reports the same loss
/// and accuracy as an uninterrupted one (Doubles travel as their bit patterns).
struct EpochTotals: Equatable {
    var lossSum = 0.0
    var correct = 0
    var samples = 0
    var stepNanoseconds: UInt64 = 0
    var computeNanoseconds: UInt64 = 0
    var learningRate: Float = 0
    /// Sum and largest of the steps' gradient norms before clipping (--clip-norm only).
    var gradientNormSum = 0.0
    var gradientNormMax = 0.0
    var clippedSteps = 0
    var steps = 0

    init() {}

    init?(progress: [String: String]) {
        guard let loss = progress["loss_sum_bits"].flatMap({ UInt64($0, radix: 16) }),
              let correct = progress["correct"].flatMap(Int.init),
              let samples = progress["samples"].flatMap(Int.init),
              let step = progress["step_ns"].flatMap(UInt64.init),
              let compute = progress["compute_ns"].flatMap(UInt64.init),
              let rate = progress["lr_bits"].flatMap({ UInt32($0, radix: 16) }) else { return nil }
        lossSum = Double(bitPattern: loss)
        self.correct = correct
        self.samples = samples
        stepNanoseconds = step
        computeNanoseconds = compute
        learningRate = Float(bitPattern: rate)
        // Absent from checkpoints written before clipping was logged.
        gradientNormSum = progress["grad_norm_sum_bits"].flatMap { UInt64($0, radix: 16) }.map(Double.init(bitPattern:)) ?? 0
        gradientNormMax = progress["grad_norm_max_bits"].flatMap { UInt64($0, radix: 16) }.map(Double.init(bitPattern:)) ?? 0
        clippedSteps = progress["clipped_steps"].flatMap(Int.init) ?? 0
        steps = progress["steps"].flatMap(Int.init) ?? 0
    }

    var progress: [String: String] {
        [
            "loss_sum_bits": String(lossSum.bitPattern, radix: 16),
            "correct": String(correct),
            "samples": String(samples),
            "step_ns": String(stepNanoseconds),
            "compute_ns": String(computeNanoseconds),
            "lr_bits": String(learningRate.bitPattern, radix: 16),
            "grad_norm_sum_bits": String(gradientNormSum.bitPattern, radix: 16),
            "grad_norm_max_bits": String(gradientNormMax.bitPattern, radix: 16),
            "clipped_steps": String(clippedSteps),
            "steps": String(steps),
        ]
    }
}
