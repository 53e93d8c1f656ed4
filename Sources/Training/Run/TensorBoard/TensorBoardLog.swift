import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Every run's TensorBoard event file, under RUN_DIR/tensorboard/
/// (`tensorboard --logdir RUN_DIR/tensorboard`). Per step: `train/loss`,
/// `train/accuracy`, `train/learning_rate`, `train/gradient_norm` (where the
/// coordinator has the gradient: train and the central collective),
/// `speed/samples_per_second`, `speed/compute_ms`, `speed/communication_ms`
/// (step time not spent computing gradients), `cluster/workers`. Per epoch,
/// the figures of metrics.jsonl under `epoch/`, at the same step.
///
/// Records are buffered in memory and written when a checkpoint is (each
/// epoch's end at least), so the file costs a step nothing but a few
/// hundred bytes of encoding, and a resumed run, which starts a file of its
/// own, neither repeats nor misses a step. Wall times make the files differ
/// run to run; the model never depends on them.
public final class TensorBoardLog: TrainingObserver {
    public static let folderName = "tensorboard"
    public let fileURL: URL
    private let output: Output
    private var buffer: [UInt8] = []
    private var scratch: [UInt8] = []
    private var failed = false

    /// `fresh`: a new run, whose folder is emptied of earlier runs' event
    /// files (a resumed run keeps them: they hold its first part).
    public init(run: RunDirectory, fresh: Bool, output: Output) throws {
        self.output = output
        let folder = run.url.appendingPathComponent(Self.folderName)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RunDirectoryError(path: folder.path, problem: "cannot be created")
        }
        if fresh {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where name.hasPrefix("events.out.tfevents.") {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
            }
        }
        let now = Date().timeIntervalSince1970
        // TensorBoard reads every file whose name holds "tfevents"; the
        // time, host and process keep a resumed run's file apart.
        fileURL = folder.appendingPathComponent(
            "events.out.tfevents.\(Int(now)).\(ProcessInfo.processInfo.hostName).\(getpid())")
        buffer.reserveCapacity(1 << 16)
        scratch.reserveCapacity(256)
        EventRecord.fileVersion(wallTime: now, into: &buffer)
        try write()
    }

    public func stepFinished(_ step: StepReport) {
        let time = Date().timeIntervalSince1970, at = step.globalStep
        let seconds = Double(max(step.stepNanoseconds, 1)) / 1e9
        scalar(Tag.loss, step.loss, at, time)
        scalar(Tag.accuracy, step.accuracy, at, time)
        scalar(Tag.learningRate, Double(step.learningRate), at, time)
        if let norm = step.gradientNorm { scalar(Tag.gradientNorm, norm, at, time) }
        scalar(Tag.samplesPerSecond, Double(step.samples) / seconds, at, time)
        scalar(Tag.computeMilliseconds, Double(step.computeNanoseconds) / 1e6, at, time)
        scalar(Tag.communicationMilliseconds,
               Double(step.stepNanoseconds - min(step.computeNanoseconds, step.stepNanoseconds)) / 1e6, at, time)
        scalar(Tag.workers, Double(step.workers), at, time)
    }

    public func epochFinished(_ metrics: EpochMetrics) {
        let time = Date().timeIntervalSince1970, at = metrics.step
        scalar(Tag.epochLoss, metrics.loss, at, time)
        scalar(Tag.epochTrainAccuracy, metrics.trainAccuracy, at, time)
        scalar(Tag.epochTestLoss, metrics.testLoss, at, time)
        scalar(Tag.epochTestAccuracy, metrics.testAccuracy, at, time)
        scalar(Tag.epochLearningRate, metrics.learningRate, at, time)
        scalar(Tag.epochSamplesPerSecond, metrics.samplesPerSecond, at, time)
        scalar(Tag.epochWorkers, Double(metrics.workers), at, time)
        scalar(Tag.epochElapsedSeconds, metrics.elapsedSeconds, at, time)
        if let fraction = metrics.communicationFraction { scalar(Tag.epochCommunicationFraction, fraction, at, time) }
    }

    public func flush() {
        guard !failed, !buffer.isEmpty else { return }
        do {
            try write()
        } catch {
            // Losing the curves must not lose the run: said once, then off.
            failed = true
            output.log("dptrain: TensorBoard log off for the rest of the run: \(error)")
        }
    }

    private func scalar(_ tag: [UInt8], _ value: Double, _ step: Int, _ time: Double) {
        EventRecord.scalar(tag: tag, value: Float(value), step: step, wallTime: time, into: &buffer, scratch: &scratch)
    }

    private func write() throws {
        let path = fileURL.path
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: path, operation: "open for appending", code: errno) }
        defer { close(fd) }
        try AtomicFile.writeAndSync(buffer, to: fd, path: path, operation: "append")
        buffer.removeAll(keepingCapacity: true)
    }

    /// Tag names as bytes, encoded once.
    enum Tag {
        static let loss = Array("train/loss".utf8)
        static let accuracy = Array("train/accuracy".utf8)
        static let learningRate = Array("train/learning_rate".utf8)
        static let gradientNorm = Array("train/gradient_norm".utf8)
        static let samplesPerSecond = Array("speed/samples_per_second".utf8)
        static let computeMilliseconds = Array("speed/compute_ms".utf8)
        static let communicationMilliseconds = Array("speed/communication_ms".utf8)
        static let workers = Array("cluster/workers".utf8)
        static let epochLoss = Array("epoch/loss".utf8)
        static let epochTrainAccuracy = Array("epoch/train_accuracy".utf8)
        static let epochTestLoss = Array("epoch/test_loss".utf8)
        static let epochTestAccuracy = Array("epoch/test_accuracy".utf8)
        static let epochLearningRate = Array("epoch/learning_rate".utf8)
        static let epochSamplesPerSecond = Array("epoch/samples_per_second".utf8)
        static let epochWorkers = Array("epoch/workers".utf8)
        static let epochElapsedSeconds = Array("epoch/elapsed_seconds".utf8)
        static let epochCommunicationFraction = Array("epoch/comm_fraction".utf8)
    }
}
