import XCTest
import Report

final class ConfusionMatrixTests: XCTestCase {
    /// Three classes, counted by hand: of 6 images, 4 right.
    func testPrecisionAndRecallByHand() {
        var matrix = ConfusionMatrix(classes: 3)
        for (actual, predicted) in [(0, 0), (0, 0), (0, 1), (1, 1), (2, 1), (2, 2)] {
            matrix.add(actual: actual, predicted: predicted)
        }
        XCTAssertEqual(matrix.total, 6)
        XCTAssertEqual(matrix.accuracy, 4.0 / 6.0)
        XCTAssertEqual(matrix.precision(0), 1)  // both predicted 0 were 0
        XCTAssertEqual(matrix.precision(1), 1.0 / 3.0)  // of three predicted 1, one was
        XCTAssertEqual(matrix.recall(0), 2.0 / 3.0)
        XCTAssertEqual(matrix.recall(2), 0.5)
        XCTAssertEqual(matrix.counts, [[2, 1, 0], [0, 1, 0], [0, 1, 1]])
    }

    func testAClassNeverPredictedOrNeverSeenHasNoShare() {
        var matrix = ConfusionMatrix(classes: 3)
        matrix.add(actual: 0, predicted: 1)
        XCTAssertNil(matrix.precision(2))
        XCTAssertNil(matrix.recall(2))
        XCTAssertEqual(matrix.precision(0), nil)
        XCTAssertEqual(matrix.recall(0), 0)
    }
}
