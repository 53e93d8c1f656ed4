import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Adam(W), dropout, label smoothing and augmentation keep the determinism
/// promise: train's bytes from the central and the ring collective with 2
/// and 3 workers, and after a killed worker and a killed, resumed coordinator.
final class TrainingFeatureTests: XCTestCase {
    /// Every feature at once, so each is covered by one set of runs.
    static let features = [
        "--optimizer", "adamw", "--weight-decay", "0.01", "--beta2", "0.99", "--dropout", "0.2",
        "--label-smoothing", "0.1", "--augment", "shift=2", "--clip-value", "0.05",
    ]

    private func run(_ command: String, _ extra: [String] = [], out: URL? = nil) throws -> Data {
        let out = try out ?? temporaryFolder()
        return try modelBytes([command] + extra + Self.features + [
            "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,32,16,10",
            "--epochs", "2", "--batch-size", "100", "--lr", "0.002", "--seed", "5", "--out", out.path,
        ], out: out)
    }

    func testEveryFeatureGivesTrainsBytesCentralAndRing() throws {
        let reference = try run("train")
        for collective in ["central", "ring"] {
            for workers in [2, 3] {
                let bytes = try run("simulate", ["--workers", String(workers), "--collective", collective])
                XCTAssertEqual(bytes, reference, "simulate --collective \(collective) --workers \(workers) differs from train")
            }
        }
    }

    /// Clipping by norm scales by the norm of the whole reduced gradient,
    /// which no ring member holds: the members share their parts of its
    /// exact square. Train's bytes and train's logged norms from both
    /// collectives, with a limit low enough that steps are clipped.
    func testClippingByNormGivesTrainsBytesAndNormsCentralAndRing() throws {
        let clip = ["--clip-norm", "0.05"]
        let trainOut = try temporaryFolder()
        let reference = try run("train", clip, out: trainOut)
        let trainNorms = try clippingFigures(in: trainOut)
        XCTAssertTrue(trainNorms.allSatisfy { $0.clipped > 0 && $0.max > 0.05 }, "no step was clipped: \(trainNorms)")
        for collective in ["central", "ring"] {
            for workers in [2, 3] {
                let out = try temporaryFolder()
                let what = "simulate --collective \(collective) --workers \(workers) --clip-norm 0.05"
                XCTAssertEqual(try run("simulate", clip + ["--workers", String(workers), "--collective", collective], out: out),
                               reference, "\(what) differs from train")
                XCTAssertEqual(try clippingFigures(in: out), trainNorms, "\(what) logged other norms than train")
            }
        }
        XCTAssertNotEqual(reference, try run("train"), "--clip-norm 0.05 changed nothing")
    }

    /// A ring member SIGKILLed in epoch 2, the coordinator SIGKILLed in
    /// epoch 4 and resumed with two workers, clipping by norm throughout:
    /// train's bytes, and train's logged norms.
    func testClippingByNormOnARingSurvivesAKilledMemberAndAResumedCoordinator() throws {
        let epochs = 6
        let clip = ["--clip-norm", "0.5"]
        let referenceOut = try temporaryFolder()
        let reference = try modelBytes(FailureRun.arguments("train", out: referenceOut, epochs: epochs, extra: clip), out: referenceOut)
        let trainNorms = try clippingFigures(in: referenceOut)
        XCTAssertTrue(trainNorms.contains { $0.clipped > 0 }, "no step was clipped: \(trainNorms)")
        let out = try temporaryFolder()
        let flags = clip + FailureRun.stepLog + ["--checkpoint-every", "10", "--collective", "ring"]
        let simulate = try launch(FailureRun.arguments("simulate", out: out, epochs: epochs, extra: flags + ["--workers", "3"]))
        let workers = joinedWorkers(of: simulate, count: 3)
        guard waitForStep(FailureRun.midEpoch(2), of: simulate) else { return }
        killHard(try XCTUnwrap(workers.last))
        guard waitForStep(FailureRun.midEpoch(4) + 3, of: simulate) else { return }
        XCTAssertTrue(simulate.stderr.contains("broke"), "the broken ring was not reported: \(simulate.stderr)")
        killHard(simulate.pid)
        _ = try simulate.wait(timeout: 10)
        waitUntilGone(Array(workers.dropLast()), "the workers of a SIGKILLed simulate")

        let resumed = try DPTrain.run(
            FailureRun.arguments("simulate", out: out, epochs: epochs, extra: flags + ["--workers", "2", "--resume", out.path]),
            timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming"), resumed.stderr)
        try assertFinished(out, matches: reference, epochs: epochs, "--clip-norm on a ring, worker and coordinator killed")
        XCTAssertEqual(try clippingFigures(in: out), trainNorms)
    }

    /// Each epoch's clipping figures from metrics.jsonl.
    private func clippingFigures(in out: URL) throws -> [ClippingFigures] {
        try metrics(in: out).map { line in
            let figures = ClippingFigures(
                mean: try XCTUnwrap(line["grad_norm"] as? Double, "no grad_norm in \(line)"),
                max: try XCTUnwrap(line["grad_norm_max"] as? Double, "no grad_norm_max in \(line)"),
                clipped: try XCTUnwrap(line["clipped_fraction"] as? Double, "no clipped_fraction in \(line)"))
            XCTAssertTrue(figures.mean > 0 && figures.mean <= figures.max, "\(line)")
            return figures
        }
    }

    private struct ClippingFigures: Equatable {
        var mean: Double
        var max: Double
        var clipped: Double
    }

    func testTheFeaturesChangeTheModel() throws {
        let out = try temporaryFolder()
        let plain = try modelBytes([
            "train", "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,32,16,10",
            "--epochs", "2", "--batch-size", "100", "--lr", "0.002", "--seed", "5", "--optimizer", "adamw",
            "--weight-decay", "0.01", "--beta2", "0.99", "--out", out.path,
        ], out: out)
        XCTAssertNotEqual(plain, try run("train"), "dropout, smoothing and shifts left the model as it was")
    }

    /// A worker SIGKILLed in epoch 2, the coordinator SIGKILLed in epoch 4,
    /// resumed from its last checkpoint with two workers: train's bytes.
    func testKilledWorkerAndResumedCoordinatorWithAdamAndDropout() throws {
        let epochs = 6
        let features = ["--optimizer", "adam", "--dropout", "0.3"]
        let referenceOut = try temporaryFolder()
        let reference = try modelBytes(
            FailureRun.arguments("train", out: referenceOut, epochs: epochs, lr: "0.001", extra: features), out: referenceOut)
        let out = try temporaryFolder()
        let flags = features + FailureRun.stepLog + ["--checkpoint-every", "10"]
        let simulate = try launch(FailureRun.arguments("simulate", out: out, epochs: epochs, lr: "0.001", extra: flags + ["--workers", "3"]))
        let workers = joinedWorkers(of: simulate, count: 3)
        guard waitForStep(FailureRun.midEpoch(2), of: simulate) else { return }
        killHard(try XCTUnwrap(workers.last))
        guard waitForStep(FailureRun.midEpoch(4) + 3, of: simulate) else { return }
        killHard(simulate.pid)
        _ = try simulate.wait(timeout: 10)
        waitUntilGone(Array(workers.dropLast()), "the workers of a SIGKILLed simulate")

        let resumed = try DPTrain.run(
            FailureRun.arguments("simulate", out: out, epochs: epochs, lr: "0.001", extra: flags + ["--workers", "2", "--resume", out.path]),
            timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming"), resumed.stderr)
        try assertFinished(out, matches: reference, epochs: epochs, "Adam and dropout, worker and coordinator killed")
    }

    /// Twice the reference batch doubles the rate (linear) or multiplies it
    /// by √2 (sqrt); two warm-up epochs of 20 steps reach half the rate at
    /// the first epoch's last step. The same run spelled with the rate and
    /// the steps written out gives the same bytes.
    func testLargeBatchRulesScaleTheRateAndWarmUp() throws {
        func train(_ flags: [String]) throws -> (model: Data, rates: [Double]) {
            let out = try temporaryFolder()
            let model = try modelBytes(["train"] + flags + [
                "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,16,10", "--epochs", "2",
                "--batch-size", "256", "--lr-schedule", "constant", "--seed", "3", "--out", out.path,
            ], out: out)
            return (model, try metrics(in: out).compactMap { $0["lr"] as? Double })
        }
        let linear = try train(["--lr", "0.05", "--lr-scaling", "linear", "--reference-batch", "128", "--warmup-epochs", "2"])
        XCTAssertEqual(linear.rates, [0.05, 0.1])
        XCTAssertEqual(linear.model, try train(["--lr", "0.1", "--warmup-steps", "40"]).model)
        let sqrt = try train(["--lr", "0.05", "--lr-scaling", "sqrt", "--reference-batch", "128"])
        XCTAssertEqual(sqrt.rates[0], 0.05 * 2.0.squareRoot(), accuracy: 1e-6)
    }

    /// A preset is its flags written out, and flags given after it win.
    func testAPresetIsItsFlagsAndExplicitFlagsOverrideIt() throws {
        func train(_ flags: [String]) throws -> Data {
            let out = try temporaryFolder()
            return try modelBytes(["train"] + flags + [
                "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,16,10", "--epochs", "1",
                "--seed", "2", "--out", out.path,
            ], out: out)
        }
        let spelledOut = [
            "--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "0.01", "--dropout", "0.2", "--label-smoothing", "0.1",
            "--batch-size", "128", "--lr-schedule", "cosine",
        ]
        XCTAssertEqual(try train(["--preset", "fashion-fast"]), try train(spelledOut))
        let result = try DPTrain.run(["train", "--preset", "nope", "--data", DPTrain.mnist5k], timeout: 60)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("--preset"), result.stderr)
    }

    /// With a validation split, metrics carry val_loss and val_accuracy, the
    /// model is the best epoch's (the bytes of a run that stops there), and
    /// the ring gives train's bytes.
    func testValidationKeepsTheBestEpochsModel() throws {
        func run(_ command: String, epochs: Int, _ extra: [String] = []) throws -> (model: Data, out: URL) {
            let out = try temporaryFolder()
            let model = try modelBytes([command] + extra + [
                "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,32,10", "--epochs", String(epochs),
                "--lr", "0.5", "--momentum", "0.9", "--validation-fraction", "0.2", "--seed", "9", "--out", out.path,
            ], out: out)
            return (model, out)
        }
        let full = try run("train", epochs: 4)
        let lines = try metrics(in: full.out)
        let losses = try lines.map { try XCTUnwrap($0["val_loss"] as? Double, "no val_loss in \($0)") }
        XCTAssertTrue(lines.allSatisfy { $0["val_accuracy"] is Double && $0["test_accuracy"] is Double })
        let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
        XCTAssertEqual(full.model, try run("train", epochs: best).model, "model.safetensors is not epoch \(best)'s")
        XCTAssertEqual(full.model, try run("simulate", epochs: 4, ["--workers", "2", "--collective", "ring"]).model)
        let stopped = try run("train", epochs: 30, ["--early-stopping", "1"])
        let epochsRun = try metrics(in: stopped.out).count
        XCTAssertLessThan(epochsRun, 30, "a patience of 1 at lr 0.5 never stopped")
    }

    func testBadValuesExit2WithOneLineNamingTheFlag() throws {
        let out = try temporaryFolder().path
        let data = ["--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--out", out]
        for (flags, flag) in [
            (["--dropout", "1"], "--dropout"), (["--dropout", "-0.1"], "--dropout"), (["--dropout", "0.1,0.2,0.3"], "--dropout"),
            (["--beta1", "1"], "--beta1"), (["--beta2", "-0.5"], "--beta2"), (["--eps", "0"], "--eps"),
            (["--optimizer", "lamb"], "--optimizer"), (["--label-smoothing", "1"], "--label-smoothing"),
            (["--augment", "rotate=3"], "--augment"), (["--augment", "shift=20"], "--augment"),
            (["--clip-norm", "0"], "--clip-norm"), (["--clip-value", "-1"], "--clip-value"),
            (["--lr-scaling", "cubic"], "--lr-scaling"), (["--reference-batch", "0"], "--reference-batch"),
            (["--warmup-epochs", "-1"], "--warmup-epochs"),
            (["--validation-fraction", "1"], "--validation-fraction"), (["--early-stopping", "3"], "--early-stopping"),
            (["--early-stopping", "-1", "--validation-fraction", "0.1"], "--early-stopping"),
        ] {
            let command = flags.contains("--workers") ? "simulate" : "train"
            let result = try DPTrain.run([command] + flags + data, timeout: 60)
            XCTAssertEqual(result.status, 2, "\(flags): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(flags): expected one line, got: \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(flag), "\(flags): '\(flag)' not in: \(result.stderr)")
        }
    }
}
