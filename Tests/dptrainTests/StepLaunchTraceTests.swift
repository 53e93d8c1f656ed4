import Foundation
import XCTest

/// DPTRAIN_LAUNCH_TRACE, which scripts/bench.sh reads for what launching a
/// step costs: every process of a run writes its events to the one file.
final class StepLaunchTraceTests: XCTestCase {
    private struct Event {
        let name: String
        let step: Int
        let pid: Int
        let nanoseconds: UInt64
    }

    private func events(_ file: URL) throws -> [Event] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            guard parts.count == 4, let step = Int(parts[1]), let pid = Int(parts[2]), let time = UInt64(parts[3]) else {
                throw XCTSkip("a line that is not EVENT STEP PID NANOSECONDS: \(line)")
            }
            return Event(name: String(parts[0]), step: step, pid: pid, nanoseconds: time)
        }
    }

    /// Each worker starts every step it computes after the coordinator sent
    /// it and after its own step before was done; with 2 workers both compute
    /// every step (100 samples, 4 shards).
    func testEveryWorkerStartsEachStepAfterItsShardsWereSentAndItWasReady() throws {
        for collective in ["central", "ring"] {
            let out = try temporaryFolder()
            let trace = out.appendingPathComponent("launch.trace")
            let running = try DPTrain.start(
                Fixture.smallRun(out: out, epochs: 1, command: "simulate", extra: ["--workers", "2", "--collective", collective]),
                environment: ["DPTRAIN_LAUNCH_TRACE": trace.path])
            let result = try running.wait(timeout: 300)
            XCTAssertEqual(result.status, 0, result.stderr)
            let steps = try XCTUnwrap(try metrics(in: out).last?["step"] as? Int)
            let all = try events(trace)
            let sent = Dictionary(grouping: all.filter { $0.name == "sent" }, by: \.step)
            let workers = Set(all.filter { $0.name == "start" }.map(\.pid))
            XCTAssertEqual(workers.count, 2, "\(collective): the workers that started steps")
            XCTAssertFalse(workers.contains(Int(running.pid)), "\(collective): the coordinator computes nothing")
            for pid in workers {
                let starts = all.filter { $0.pid == pid && $0.name == "start" }
                let ready = Dictionary(all.filter { $0.pid == pid && $0.name == "ready" }.map { ($0.step, $0.nanoseconds) }) { $1 }
                XCTAssertEqual(Set(starts.map(\.step)), Set(0..<steps), "\(collective): worker \(pid) started every step")
                for start in starts {
                    let sends = sent[start.step, default: []].map(\.nanoseconds)
                    XCTAssertTrue(sends.contains { $0 <= start.nanoseconds }, "\(collective): step \(start.step) started before it was sent")
                    if let before = ready[start.step - 1] {
                        XCTAssertLessThanOrEqual(before, start.nanoseconds, "\(collective): step \(start.step) started before the last was done")
                    }
                }
            }
        }
    }
}
