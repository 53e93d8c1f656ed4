import Datasets
import Training
import XCTest

final class EarlyStoppingTests: XCTestCase {
    /// A scripted validation curve: best at epoch 3, then two epochs without
    /// a lower loss (an equal one does not count) stop a patience of 2 at epoch 5.
    func testStopsWhenPatienceRunsOutAndKeepsTheBestEpoch() {
        var stopping = EarlyStopping(patience: 2)
        let curve = [0.9, 0.7, 0.5, 0.6, 0.5, 0.4]
        var decisions: [(improved: Bool, stop: Bool)] = []
        for (index, loss) in curve.enumerated() {
            let decision = stopping.record(epoch: index + 1, loss: loss)
            decisions.append(decision)
            if decision.stop { break }
        }
        XCTAssertEqual(decisions.map(\.improved), [true, true, true, false, false])
        XCTAssertEqual(decisions.map(\.stop), [false, false, false, false, true])
        XCTAssertEqual(stopping.bestEpoch, 3)
        XCTAssertEqual(stopping.bestLoss, 0.5)
    }

    func testWithoutPatienceItOnlyTracksTheBest() {
        var stopping = EarlyStopping(patience: nil)
        for (index, loss) in [0.3, 0.4, 0.5, 0.6].enumerated() {
            XCTAssertFalse(stopping.record(epoch: index + 1, loss: loss).stop)
        }
        XCTAssertEqual(stopping.bestEpoch, 1)
    }

    func testTheHeldOutSamplesAreSeededDisjointAndComplete() {
        let count = 100
        let train = LabeledImages(rows: 1, columns: 1, pixels: (0..<count).map(UInt8.init), labels: (0..<count).map { UInt8($0 % 10) })
        let data = TrainingData(train: train, test: train)
        let split = data.holdingOut(fraction: 0.2, seed: 4)
        let validation = try! XCTUnwrap(split.validation)
        XCTAssertEqual(validation.count, 20)
        XCTAssertEqual(split.train.count, 80)
        XCTAssertEqual(Set(validation.pixels + split.train.pixels).count, count, "every sample on exactly one side")
        XCTAssertEqual(validation.pixels, data.holdingOut(fraction: 0.2, seed: 4).validation?.pixels)
        XCTAssertNotEqual(validation.pixels, data.holdingOut(fraction: 0.2, seed: 5).validation?.pixels)
        XCTAssertEqual(validation.labels, validation.pixels.map { $0 % 10 }, "labels stay with their images")
        XCTAssertNil(data.holdingOut(fraction: 0, seed: 4).validation)
    }
}
