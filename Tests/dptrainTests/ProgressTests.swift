import Foundation
import XCTest

/// What a person sees while dptrain trains: on a terminal one line that
/// redraws itself, in a file plain lines without control characters,
/// under --quiet only the result, with --log-format json a log that parses.
final class ProgressTests: XCTestCase {
    private let epochs = 2
    /// mnist-5k at batch 128: 40 steps an epoch (the last one short).
    private let stepsPerEpoch = 40

    private func arguments(_ command: String, out: URL, _ extra: [String] = []) -> [String] {
        [command] + extra + [
            "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,32,10",
            "--epochs", String(epochs), "--batch-size", "128", "--seed", "3", "--out", out.path,
        ]
    }

    func testOnATerminalTheProgressLineRedrawsItselfAndLeavesOnlyTheEpochLines() throws {
        let out = try temporaryFolder()
        let result = try Python.runOnTerminal(arguments("train", out: out, ["--progress-interval", "0"]))
        XCTAssertEqual(result.status, 0, result.text + result.stderr)
        let received = result.text
        for epoch in 1...epochs {
            let redraws = received.components(separatedBy: "\r" + "epoch \(epoch)/\(epochs) [").count - 1
            XCTAssertEqual(redraws, stepsPerEpoch, "one redraw per step of epoch \(epoch): \(received.debugDescription.prefix(2000))")
            XCTAssertTrue(received.contains("] \(stepsPerEpoch / 2)/\(stepsPerEpoch)  "), "the step count")
        }
        let redraw = try XCTUnwrap(received.components(separatedBy: "\r").first { $0.hasPrefix("epoch 1/2 [") })
        XCTAssertTrue(redraw.hasSuffix("\u{1B}[K"), "a redraw erases what a longer one left: \(redraw.debugDescription)")
        for field in [" left  loss ", "  acc ", " samples/s  1 worker"] {
            XCTAssertTrue(redraw.contains(field), "'\(field)' not in \(redraw.debugDescription)")
        }
        XCTAssertLessThan(redraw.count, 160, "wider than the terminal")
        // Once drawn over, the terminal shows the epoch lines and the result, nothing else.
        let shown = visibleLines(received)
        XCTAssertEqual(shown.count, epochs + 1, "\(shown)")
        XCTAssertEqual(shown.filter { $0.hasPrefix("epoch ") && $0.contains("  train ") }.count, epochs, "\(shown)")
        XCTAssertTrue(shown.last?.hasPrefix("results in \(out.path)") ?? false, "\(shown)")
    }

    /// simulate on a terminal: the coordinator's start-up lines, then one
    /// line per epoch; the workers' joins and stops are not on screen.
    func testSimulateOnATerminalReadsAsOneCleanBlockPerEpoch() throws {
        let out = try temporaryFolder()
        let result = try Python.runOnTerminal(arguments("simulate", out: out, ["--workers", "2", "--progress-interval", "0"]))
        XCTAssertEqual(result.status, 0, result.text + result.stderr)
        XCTAssertTrue(result.text.contains("2 workers  ") || result.text.contains(" samples/s  2 workers"),
                      "live workers on the progress line: \(result.text.debugDescription.prefix(3000))")
        let shown = visibleLines(result.text)
        let startUp = shown.prefix { !$0.hasPrefix("epoch ") }
        XCTAssertEqual(startUp.count, 4, "listening, waiting, two joins: \(shown)")
        XCTAssertTrue(startUp.allSatisfy { $0.hasPrefix("coordinator: ") }, "\(shown)")
        XCTAssertEqual(startUp.filter { $0.contains(" joined; ") }.count, 2, "\(shown)")
        let rest = Array(shown.dropFirst(startUp.count))
        XCTAssertEqual(rest.count, epochs + 1, "one line per epoch, then the result: \(shown)")
        XCTAssertTrue(rest.dropLast().allSatisfy { $0.hasPrefix("epoch ") && $0.contains("2 workers") }, "\(shown)")
        XCTAssertFalse(shown.contains { $0.hasPrefix("worker:") }, "a worker's routine line on screen: \(shown)")
    }

    func testWithoutATerminalTheProgressIsPlainLinesAtMostOnePerInterval() throws {
        let out = try temporaryFolder()
        let every = try DPTrain.run(arguments("train", out: out, ["--progress-interval", "0"]))
        XCTAssertEqual(every.status, 0, every.stderr)
        assertNoControlCharacters(every.stdout + every.stderr)
        let lines = every.stdout.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("step ") }.count, epochs * stepsPerEpoch, every.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("step 20/40 of epoch 2/2 (50%)  ") }, every.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("epoch ") }.count, epochs, "only epoch lines start with 'epoch'")
        for line in lines where line.hasPrefix("step ") {
            XCTAssertTrue(line.contains(" left  loss ") && line.contains(" samples/s  1 worker"), String(line))
        }

        // The default interval: however long the run took, no more than a line per 5 s of it.
        let other = try temporaryFolder()
        let plain = try DPTrain.run(arguments("train", out: other))
        XCTAssertEqual(plain.status, 0, plain.stderr)
        assertNoControlCharacters(plain.stdout + plain.stderr)
        let elapsed = try XCTUnwrap(try metrics(in: other).last?["elapsed_seconds"] as? Double)
        let progress = plain.stdout.split(separator: "\n").filter { $0.hasPrefix("step ") }.count
        XCTAssertLessThanOrEqual(progress, Int(elapsed / 5), "\(progress) lines in \(elapsed) s: \(plain.stdout)")
    }

    func testQuietPrintsOnlyTheFinalResult() throws {
        for command in ["train", "simulate"] {
            let out = try temporaryFolder()
            let extra = command == "simulate" ? ["--workers", "2", "--quiet"] : ["--quiet"]
            let result = try DPTrain.run(arguments(command, out: out, extra))
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stderr, "", "\(command) --quiet logged")
            let lines = result.stdout.split(separator: "\n")
            XCTAssertEqual(lines.count, 2, "\(command): the last epoch's line and where the results are: \(result.stdout)")
            XCTAssertTrue(lines.first?.hasPrefix("epoch   \(epochs)  loss ") ?? false, result.stdout)
            XCTAssertTrue(lines.last?.hasPrefix("results in \(out.path)") ?? false, result.stdout)
        }
        let bad = try DPTrain.run(["train", "--quiet", "--epochs", "0", "--data", DPTrain.mnist5k])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, "errors still show: \(bad.stderr)")
    }

    func testJSONLogLinesParse() throws {
        let out = try temporaryFolder()
        let result = try DPTrain.run(arguments("simulate", out: out, ["--workers", "2", "--log-format", "json"]))
        XCTAssertEqual(result.status, 0, result.stderr)
        let records = try result.stderr.split(separator: "\n").map { line -> [String: Any] in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try XCTUnwrap(object, "not a JSON object: \(line)")
        }
        XCTAssertTrue(records.allSatisfy { $0["time"] is String && $0["level"] is String && $0["source"] is String })
        XCTAssertEqual(records.filter { ($0["message"] as? String)?.contains(" joined; ") ?? false }.count, 2, result.stderr)
        let epochRecords = records.filter { $0["event"] as? String == "epoch" }
        XCTAssertEqual(epochRecords.compactMap { $0["epoch"] as? Int }, Array(1...epochs), result.stderr)
        let written = try metrics(in: out)
        XCTAssertEqual(epochRecords.last?["test_accuracy"] as? Double, written.last?["test_accuracy"] as? Double)

        let bad = try DPTrain.run(["train", "--log-format", "json", "--epochs", "0", "--data", DPTrain.mnist5k])
        XCTAssertEqual(bad.status, 2)
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bad.stderr.utf8)) as? [String: Any], bad.stderr)
        XCTAssertEqual(line["level"] as? String, "error")
        XCTAssertTrue((line["message"] as? String)?.contains("--epochs") ?? false, bad.stderr)
    }

    private func assertNoControlCharacters(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let control = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F }
        XCTAssertTrue(control.isEmpty, "control characters \(control.map { $0.value }) in: \(text.prefix(500))", file: file, line: line)
    }
}
