import Clock
import Foundation

/// The line that shows an epoch under way. On a terminal it redraws itself:
///
///     epoch 2/5 [#######.............] 120/469  0:12 left  loss 0.3120  acc 0.9012  25310 samples/s  4 workers
///
/// elsewhere (CI, a file, Slurm) it is a plain line, no control characters,
/// at most one every few seconds:
///
///     step 120/469 of epoch 2/5 (26%)  0:12 left  loss 0.3120  acc 0.9012  25310 samples/s  4 workers
///
/// It never starts with "epoch " followed by a number, which the epoch
/// lines own. `clock` is injectable so tests need no real time.
public final class ProgressReporter: TrainingObserver {
    private let output: Output
    private let clock: () -> UInt64
    private let intervalNanoseconds: UInt64
    private var lastDrawn: UInt64?

    public init(output: Output, clock: @escaping () -> UInt64 = monotonicNanoseconds) {
        self.output = output
        self.clock = clock
        switch output.progress {
        case .off: intervalNanoseconds = .max
        case .terminal(let seconds), .lines(let seconds): intervalNanoseconds = UInt64(max(seconds, 0) * 1e9)
        }
    }

    public func stepFinished(_ step: StepReport) {
        guard output.progress != .off else { return }
        let now = clock()
        guard let last = lastDrawn else {
            // A terminal shows the bar at once; a log file waits an interval.
            lastDrawn = now
            if case .terminal = output.progress { draw(step) }
            if intervalNanoseconds == 0, case .lines = output.progress { draw(step) }
            return
        }
        guard now &- last >= intervalNanoseconds else { return }
        lastDrawn = now
        draw(step)
    }

    public func epochFinished(_ metrics: EpochMetrics) { output.clearProgress() }

    public func flush() {}

    private func draw(_ step: StepReport) {
        if case .terminal = output.progress {
            output.progressLine(Self.terminalLine(step, columns: output.terminalColumns))
        } else {
            output.progressLine(Self.plainLine(step))
        }
    }

    /// The bar takes what the terminal's width leaves, up to 30 columns; on
    /// a narrow terminal (80 columns) the figures close up to leave it 8 or
    /// more, and below that the line goes without a bar. The most wanted
    /// figures come first, in case the terminal cuts the rest.
    public static func terminalLine(_ step: StepReport, columns: Int) -> String {
        let head = "epoch \(step.epoch)/\(step.epochs) "
        var tail = " \(step.stepInEpoch)/\(step.stepsPerEpoch)  " + figures(step)
        var room = min(columns - 1 - head.count - tail.count - 2, 30)
        if room < 10 {
            tail = " \(step.stepInEpoch)/\(step.stepsPerEpoch) " + figures(step, compact: true)
            room = min(columns - 1 - head.count - tail.count - 2, 30)
        }
        guard room >= 8 else { return head + tail.dropFirst() }
        let filled = step.stepsPerEpoch > 0 ? room * step.stepInEpoch / step.stepsPerEpoch : 0
        return head + "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: room - filled) + "]" + tail
    }

    public static func plainLine(_ step: StepReport) -> String {
        let percent = step.stepsPerEpoch > 0 ? 100 * step.stepInEpoch / step.stepsPerEpoch : 0
        return "step \(step.stepInEpoch)/\(step.stepsPerEpoch) of epoch \(step.epoch)/\(step.epochs) (\(percent)%)  " + figures(step)
    }

    private static func figures(_ step: StepReport, compact: Bool = false) -> String {
        String(format: compact ? "%@ left loss %.4f acc %.4f %.0f/s %d worker%@" : "%@ left  loss %.4f  acc %.4f  %.0f samples/s  %d worker%@",
               duration(step.secondsLeftInEpoch), step.epochLoss, step.epochAccuracy, step.epochSamplesPerSecond,
               step.workers, step.workers == 1 ? "" : "s")
    }

    /// m:ss, or h:mm:ss from an hour on.
    public static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.isFinite ? max(seconds, 0).rounded() : 0)
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
