import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The run the failure tests disturb: 784-64-10 on mnist-5k, 50 steps an
/// epoch, long enough to kill things mid-run and short enough to repeat.
/// A peer timeout of one second makes a dead worker cost about a second.
enum FailureRun {
    static let epochs = 30
    static let layers = "784,64,10"
    static let batchSize = 100
    static let stepsPerEpoch = 5_000 / batchSize
    static let cluster = ["--heartbeat-ms", "100", "--peer-timeout-ms", "1000"]
    /// Makes train or the coordinator log `step N done (epoch E, step S of T)`
    /// after every step: the events faults are placed by, instead of sleeps.
    static let stepLog = ["--log-level", "debug"]

    /// The global step (0-based) halfway through 1-based `epoch`: a fault
    /// placed there lands mid-epoch, away from the epoch's checkpoint.
    static func midEpoch(_ epoch: Int) -> Int { (epoch - 1) * stepsPerEpoch + stepsPerEpoch / 2 }

    /// `command` first, then `extra`, then the cluster flags (not for train), then the training flags.
    static func arguments(
        _ command: String, out: URL, layers: String = layers, batchSize: Int = batchSize, epochs: Int = epochs,
        lr: String = "0.1", extra: [String] = []
    ) -> [String] {
        [command] + extra + (command == "train" ? [] : cluster) + [
            "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", layers,
            "--activation", "relu", "--epochs", String(epochs), "--batch-size", String(batchSize),
            "--lr", lr, "--momentum", "0.9", "--lr-decay", "0.9", "--seed", "11", "--out", out.path,
        ]
    }

    private nonisolated(unsafe) static var references: [String: Data] = [:]

    /// The undisturbed model from `train` with the same training flags, computed once per configuration.
    static func reference(layers: String = layers, batchSize: Int = batchSize, epochs: Int = epochs) throws -> Data {
        let key = "\(layers) \(batchSize) \(epochs)"
        if let known = references[key] { return known }
        let out = try temporaryFolder()
        let result = try DPTrain.run(arguments("train", out: out, layers: layers, batchSize: batchSize, epochs: epochs))
        XCTAssertEqual(result.status, 0, "reference run failed: \(result.stderr)")
        let bytes = try XCTUnwrap(fileBytes(out.appendingPathComponent("model.safetensors")), "reference run wrote no model")
        references[key] = bytes
        return bytes
    }
}

/// The global steps a run at `--log-level debug` reported done, in order, from
/// its `step N done (...)` lines. N is parsed whole, so step 7 is not step 75.
private func reportedSteps(in log: String) -> [Int] {
    log.split(separator: "\n").compactMap { line in
        guard line.hasPrefix("step "), let done = line.range(of: " done (") else { return nil }
        return Int(line[line.index(line.startIndex, offsetBy: 5)..<done.lowerBound])
    }
}

extension DPTrain.Result {
    /// Steps reported done (`FailureRun.stepLog`); the first is where a resumed run picked up.
    var stepsDone: [Int] { reportedSteps(in: stderr) }
}

extension DPTrain.Running {
    /// Epoch lines printed on stdout so far.
    var epochsPrinted: Int { stdout.split(separator: "\n").filter { $0.hasPrefix("epoch") }.count }

    /// Steps reported done so far on stderr (`FailureRun.stepLog`).
    var stepsDone: [Int] { reportedSteps(in: stderr) }

    /// Workers the coordinator has welcomed so far (its own log lines, not the workers').
    var workersJoined: Int {
        stderr.split(separator: "\n").filter { $0.hasPrefix("coordinator:") && $0.contains(" joined") }.count
    }

    /// The endpoint from `coordinator: listening on ENDPOINT` (tcp://HOST:PORT or ipc://PATH), once logged.
    var endpoint: String? {
        guard let range = stderr.range(of: "listening on ") else { return nil }
        var endpoint = stderr[range.upperBound...].prefix { !$0.isWhitespace }
        if endpoint.hasSuffix(",") { endpoint = endpoint.dropLast() }
        return endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://") ? String(endpoint) : nil
    }
}

extension XCTestCase {
    /// Starts dptrain and makes sure it does not outlive the test, whatever the test's outcome.
    func launch(_ arguments: [String]) throws -> DPTrain.Running {
        let running = try DPTrain.start(arguments)
        addTeardownBlock {
            if running.process.isRunning {
                kill(running.pid, SIGKILL)
                running.process.waitUntilExit()
            }
        }
        return running
    }

    /// Polls `condition` every 10 ms; fails the test and returns false after `timeout` seconds.
    @discardableResult
    func waitUntil(
        _ what: @autoclosure () -> String, timeout: Double = 60, file: StaticString = #filePath, line: UInt = #line,
        _ condition: () -> Bool
    ) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else {
                XCTFail("timed out after \(timeout) s waiting for \(what())", file: file, line: line)
                return false
            }
            usleep(10_000)
        }
        return true
    }

    /// Waits until `running` has printed `count` epoch lines; fails if it ends first.
    func waitForEpochs(_ count: Int, of running: DPTrain.Running, file: StaticString = #filePath, line: UInt = #line) {
        waitUntil("epoch \(count) of \(running.process.arguments ?? []); stderr: \(running.stderr)", file: file, line: line) {
            running.epochsPrinted >= count || !running.process.isRunning
        }
        XCTAssertTrue(running.process.isRunning, "the run ended before epoch \(count) was seen: \(running.stderr)", file: file, line: line)
    }

    /// Waits until `running`, started with `FailureRun.stepLog`, has reported
    /// global step `step` done. Fails and returns false if the run ends first
    /// (a fault placed after this would land on a finished run).
    @discardableResult
    func waitForStep(_ step: Int, of running: DPTrain.Running, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let ended = { !running.process.isRunning }
        guard waitUntil("step \(step) of \(running.process.arguments ?? []); stderr: \(running.stderr)", file: file, line: line, {
            ended() || running.stepsDone.contains(step)
        }) else { return false }
        guard !ended() else {
            XCTFail("the run ended before step \(step) was seen done: \(running.stderr)", file: file, line: line)
            return false
        }
        return true
    }

    /// Waits until none of `pids` is alive; fails after 10 s.
    func waitUntilGone(_ pids: [Int32], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        waitUntil("\(what) to exit; alive: \(pids.filter(isAlive))", timeout: 10, file: file, line: line) {
            pids.filter(isAlive).isEmpty
        }
    }

    /// The worker processes of a simulate, once `count` of them exist and the coordinator has welcomed them.
    func joinedWorkers(of simulate: DPTrain.Running, count: Int, file: StaticString = #filePath, line: UInt = #line) -> [Int32] {
        var workers: [Int32] = []
        waitUntil("\(count) workers of simulate to join; stderr: \(simulate.stderr)", file: file, line: line) {
            workers = children(of: simulate.pid)
            return workers.count >= count && simulate.workersJoined >= count
        }
        return workers.sorted()
    }

    /// Runs dptrain to the end and returns the model it wrote.
    func modelBytes(_ arguments: [String], out: URL, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        let result = try DPTrain.run(arguments, timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        return try XCTUnwrap(fileBytes(out.appendingPathComponent("model.safetensors")), result.stderr, file: file, line: line)
    }

    /// SIGTERMs a FailureRun simulate started with `extra` and `workers`
    /// workers in the middle of its second epoch: it must exit 143 with a
    /// checkpoint of the step it stopped at and take its workers with it.
    /// Then resumes it with `resume` and checks the result is the undisturbed run's.
    func assertTerminatedRunResumes(
        extra: [String], workers: Int, resume: [String], _ context: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let simulate = try launch(FailureRun.arguments(
            "simulate", out: out, extra: extra + FailureRun.stepLog + ["--workers", String(workers)]))
        let children = joinedWorkers(of: simulate, count: workers, file: file, line: line)
        guard waitForStep(FailureRun.midEpoch(2), of: simulate, file: file, line: line) else { return }
        simulate.signal(SIGTERM)
        let result = try simulate.wait(timeout: 60)
        XCTAssertEqual(result.status, 143, result.stderr, file: file, line: line)
        XCTAssertNotNil(fileBytes(out.appendingPathComponent("checkpoint.safetensors")), "SIGTERM left no checkpoint",
                        file: file, line: line)
        waitUntilGone(children, "the workers of a terminated simulate", file: file, line: line)
        let resumed = try DPTrain.run(
            FailureRun.arguments("simulate", out: out, extra: resume + FailureRun.stepLog + ["--resume", out.path]), timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr, file: file, line: line)
        assertResumed(resumed, after: result, context, file: file, line: line)
        try assertFinished(out, matches: reference, context, file: file, line: line)
    }

    /// A run stopped by a signal or a failure checkpoints the step it stopped
    /// at (not only the last epoch's end): its resumption starts with the step
    /// after the last one `stopped` reported done.
    func assertResumed(
        _ resumed: DPTrain.Result, after stopped: DPTrain.Result, _ context: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let lastDone = stopped.stepsDone.last
        XCTAssertNotNil(lastDone, "\(context): the stopped run reported no step: \(stopped.stderr)", file: file, line: line)
        XCTAssertEqual(resumed.stepsDone.first, lastDone.map { $0 + 1 },
                       "\(context): the resumed run did not start where the stopped one stopped: \(resumed.stderr)",
                       file: file, line: line)
    }

    /// SIGKILLs `pid` and waits until it is really gone.
    func killHard(_ pid: Int32, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(isAlive(pid), "process \(pid) was already gone before the kill", file: file, line: line)
        XCTAssertEqual(kill(pid, SIGKILL), 0, "kill(\(pid)) failed", file: file, line: line)
        waitUntil("process \(pid) to die", timeout: 10, file: file, line: line) { !isAlive(pid) }
    }

    /// Asserts that a run directory holds `expected` and one metrics line per epoch, in order.
    func assertFinished(
        _ out: URL, matches expected: Data, epochs: Int = FailureRun.epochs, _ context: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let model = fileBytes(out.appendingPathComponent("model.safetensors"))
        XCTAssertNotNil(model, "\(context): no model.safetensors", file: file, line: line)
        XCTAssertTrue(model == expected, "\(context): model differs from the undisturbed train run", file: file, line: line)
        let lines = try metrics(in: out)
        XCTAssertEqual(lines.compactMap { $0["epoch"] as? Int }, Array(1...epochs),
                       "\(context): metrics.jsonl should hold exactly one line per epoch", file: file, line: line)
    }
}
