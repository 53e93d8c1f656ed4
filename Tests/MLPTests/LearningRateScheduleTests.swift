import MLP
import XCTest

final class LearningRateScheduleTests: XCTestCase {
    private func rate(_ kind: LearningRateSchedule.Kind, warmup: Int = 0, epoch: Int, step: Int? = nil) throws -> Float {
        try LearningRateSchedule(kind: kind, warmupSteps: warmup)
            .rate(base: 0.1, epoch: epoch, globalStep: step ?? epoch * 100, stepsPerEpoch: 100)
    }

    func testConstant() throws {
        XCTAssertEqual(try rate(.constant, epoch: 0), 0.1)
        XCTAssertEqual(try rate(.constant, epoch: 50), 0.1)
    }

    func testExponentialMultipliesOncePerEpoch() throws {
        XCTAssertEqual(try rate(.exponential(decay: 0.5), epoch: 0), 0.1)
        XCTAssertEqual(try rate(.exponential(decay: 0.5), epoch: 0, step: 99), 0.1)
        XCTAssertEqual(try rate(.exponential(decay: 0.5), epoch: 2), 0.025)
        XCTAssertEqual(try rate(.exponential(decay: 0.9), epoch: 3), 0.0729, accuracy: 1e-8)
    }

    func testStep() throws {
        let kind = LearningRateSchedule.Kind.step(everyEpochs: 3, gamma: 0.1)
        XCTAssertEqual(try rate(kind, epoch: 2), 0.1)
        XCTAssertEqual(try rate(kind, epoch: 3), Float(0.1 * 0.1))
        XCTAssertEqual(try rate(kind, epoch: 6), Float(0.1 * 0.1 * 0.1))
    }

    func testCosine() throws {
        // Over 10 epochs of 100 steps: base at 0, midway (0.1 + 0.001)/2 at
        // step 500, the floor at 1000 and after.
        let kind = LearningRateSchedule.Kind.cosine(totalEpochs: 10, floor: 0.001)
        XCTAssertEqual(try rate(kind, epoch: 0), 0.1)
        XCTAssertEqual(try rate(kind, epoch: 5), 0.0505, accuracy: 1e-8)
        XCTAssertEqual(try rate(kind, epoch: 10), 0.001)
        XCTAssertEqual(try rate(kind, epoch: 20), 0.001)
    }

    func testWarmupScalesLinearlyThenStops() throws {
        let rates = try (0..<6).map { try rate(.constant, warmup: 4, epoch: 0, step: $0) }
        XCTAssertEqual(rates, [0.025, 0.05, 0.075, 0.1, 0.1, 0.1])
    }

    func testRejectsNonsense() {
        XCTAssertThrowsError(try LearningRateSchedule(kind: .step(everyEpochs: 0, gamma: 0.5)))
        XCTAssertThrowsError(try LearningRateSchedule(kind: .exponential(decay: -1)))
        XCTAssertThrowsError(try LearningRateSchedule(kind: .cosine(totalEpochs: 0, floor: 0)))
        XCTAssertThrowsError(try LearningRateSchedule(warmupSteps: -1))
    }
}
