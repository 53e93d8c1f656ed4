import XCTest
import Training

/// The progress line against a clock the test moves: when it draws, what
/// it draws, and that other lines clear it first on a terminal.
final class ProgressReporterTests: XCTestCase {
    private final class Capture: @unchecked Sendable {
        let lock = NSLock()
        var written: [String] = []
        func add(_ text: String) { lock.lock(); written.append(text); lock.unlock() }
    }

    private func step(_ n: Int, of steps: Int = 10) -> StepReport {
        StepReport(
            epoch: 2, epochs: 3, stepInEpoch: n, stepsPerEpoch: steps, globalStep: steps + n, loss: 0.5,
            accuracy: 0.75, samples: 100, learningRate: 0.1, workers: 4, stepNanoseconds: 1_000_000_000,
            computeNanoseconds: 600_000_000, gradientNorm: 1.25, epochLoss: 0.4321, epochAccuracy: 0.8765,
            epochSamples: 100 * n, epochStepNanoseconds: UInt64(n) * 1_000_000_000)
    }

    func testPlainLinesComeAtMostOncePerIntervalAndCarryNoControlCharacters() {
        let capture = Capture()
        let output = Output(progress: .lines(interval: 5), people: { capture.add($0) }, log: { capture.add($0) })
        var now: UInt64 = 0
        let reporter = ProgressReporter(output: output) { now }
        for n in 1...10 {
            reporter.stepFinished(step(n))
            now += 2_000_000_000  // 2 s a step: a line every third step at most
        }
        XCTAssertEqual(capture.written.count, 3, "\(capture.written)")
        XCTAssertEqual(capture.written.first, "step 4/10 of epoch 2/3 (40%)  0:06 left  loss 0.4321  acc 0.8765  100 samples/s  4 workers")
        for line in capture.written {
            XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, line)
            XCTAssertFalse(line.hasPrefix("epoch"), "epoch lines own that start: \(line)")
        }
    }

    func testATerminalRedrawsInPlaceAndOtherLinesClearItFirst() {
        let capture = Capture(), raw = Capture()
        let output = Output(progress: .terminal(interval: 1), people: { capture.add("people: " + $0) },
                            log: { capture.add("log: " + $0) }, terminal: { raw.add($0); capture.add("raw") })
        var now: UInt64 = 0
        let reporter = ProgressReporter(output: output) { now }
        reporter.stepFinished(step(1))  // drawn at once
        now += 500_000_000
        reporter.stepFinished(step(2))  // too soon
        now += 500_000_000
        reporter.stepFinished(step(3))
        output.log("coordinator: something happened")
        XCTAssertEqual(raw.written.count, 3, "two redraws and one clear: \(raw.written)")
        XCTAssertTrue(raw.written[0].hasPrefix("\repoch 2/3 ["), raw.written[0])
        XCTAssertTrue(raw.written[0].hasSuffix("\u{1B}[K"))
        // An 80-column terminal (the test's own stdout is none): the figures close up for the bar.
        XCTAssertTrue(raw.written[1].contains("] 3/10 0:07 left loss 0.4321 acc 0.8765 100/s 4 workers"), raw.written[1])
        XCTAssertEqual(raw.written[2], "\r\u{1B}[K")
        XCTAssertEqual(capture.written.suffix(2), ["raw", "log: coordinator: something happened"])
    }

    func testTheBarFitsTheTerminal() {
        for columns in [40, 80, 100, 200] {
            let line = ProgressReporter.terminalLine(step(5), columns: columns)
            XCTAssertTrue(line.count < columns || !line.contains("["), "\(columns) columns: \(line)")
        }
        let wide = ProgressReporter.terminalLine(step(5), columns: 200)
        XCTAssertEqual(wide, "epoch 2/3 [###############...............] 5/10  0:05 left  loss 0.4321  acc 0.8765  100 samples/s  4 workers")
        let narrow = ProgressReporter.terminalLine(step(5), columns: 80)
        XCTAssertTrue(narrow.hasPrefix("epoch 2/3 ["), narrow)
        XCTAssertTrue(narrow.hasSuffix("] 5/10 0:05 left loss 0.4321 acc 0.8765 100/s 4 workers"), narrow)
    }

    func testIntervalZeroDrawsEveryStepAndOffDrawsNothing() {
        let capture = Capture()
        let every = ProgressReporter(output: Output(progress: .lines(interval: 0), people: { capture.add($0) }, log: { capture.add($0) })) { 0 }
        for n in 1...4 { every.stepFinished(step(n)) }
        XCTAssertEqual(capture.written.count, 4)
        let quiet = ProgressReporter(output: Output(progress: .off, people: { capture.add($0) }, log: { capture.add($0) })) { 0 }
        for n in 1...4 { quiet.stepFinished(step(n)) }
        XCTAssertEqual(capture.written.count, 4)
    }

    func testDurations() {
        XCTAssertEqual(ProgressReporter.duration(0), "0:00")
        XCTAssertEqual(ProgressReporter.duration(61.4), "1:01")
        XCTAssertEqual(ProgressReporter.duration(3725), "1:02:05")
        XCTAssertEqual(ProgressReporter.duration(.nan), "0:00")
    }
}
