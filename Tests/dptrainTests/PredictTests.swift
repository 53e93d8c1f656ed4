import Foundation
import XCTest

/// `dptrain predict` on real MNIST test digits saved as PGM and as PNGs of
/// every colour type (written by scripts/lib/test_images.py, not by
/// dptrain): each gets the class and probability evaluate gives that image.
final class PredictTests: XCTestCase {
    private static let variants = ["pgm", "grey", "rgb", "palette", "rgba", "grey-alpha", "large", "inverted"]

    /// One line of predict's output: "FILE: CLASS [NAME] probability P[ (inverted)]".
    private struct Line {
        let file: String, label: Int, name: String?, probability: Double, inverted: Bool

        init(_ text: Substring) throws {
            let parts = text.components(separatedBy: ": ")
            file = parts[0]
            var words = parts[1].split(separator: " ").map(String.init)
            inverted = words.last == "(inverted)"
            if inverted { words.removeLast() }
            label = try XCTUnwrap(Int(words[0]))
            probability = try XCTUnwrap(Double(words[words.count - 1]))
            XCTAssertEqual(words[words.count - 2], "probability")
            name = words.count > 3 ? words[1..<(words.count - 2)].joined(separator: " ") : nil
        }
    }

    func testImagesGetEvaluatesClassAndProbability() throws {
        let model = try ModelUse.train(layers: "784,64,10", activation: "relu")
        let (_, rows) = try ModelUse.evaluate(model)
        // A few digits, and the first the model gets wrong: predict must give
        // the model's answer, not the label.
        let wrong = try XCTUnwrap(rows.firstIndex { $0.label != $0.predicted })
        let indices = [0, 1, 2, 3, wrong]
        let folder = try writeMNISTImages(indices)
        let files = indices.flatMap { index in
            Self.variants.map { folder.appendingPathComponent($0 == "pgm" ? "\(index).pgm" : "\(index)-\($0).png").path }
        }
        let result = try DPTrain.run(["predict", "--model", model.path] + files)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try result.stdout.split(separator: "\n").map(Line.init)
        XCTAssertEqual(lines.map(\.file), files)
        for (number, line) in lines.enumerated() {
            let row = rows[indices[number / Self.variants.count]]
            XCTAssertEqual(line.label, row.predicted, line.file)
            XCTAssertEqual(line.probability, row.probabilities[row.predicted], accuracy: 0.00005, line.file)
            XCTAssertEqual(line.inverted, line.file.hasSuffix("-inverted.png"), line.file)
            XCTAssertNil(line.name)
        }
    }

    func testFashionClassNames() throws {
        let model = try ModelUse.train(layers: "784,16,10", activation: "relu")
        let (_, rows) = try ModelUse.evaluate(model)
        let folder = try writeMNISTImages([0])
        let result = try DPTrain.run(["predict", "--model", model.path, "--classes", "fashion-mnist",
                                      folder.appendingPathComponent("0.pgm").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let line = try Line(try XCTUnwrap(result.stdout.split(separator: "\n").first))
        let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        XCTAssertEqual(line.label, rows[0].predicted)
        XCTAssertEqual(line.name, names[rows[0].predicted])
    }

    func testBadImagesAreOneLineNamingTheFile() throws {
        let model = try ModelUse.train(layers: "784,16,10", activation: "relu")
        let folder = try writeMNISTImages([0])
        let good = folder.appendingPathComponent("0-grey.png")
        var bytes = try Data(contentsOf: good)
        bytes[bytes.count - 20] ^= 0x01
        let corrupt = folder.appendingPathComponent("corrupt.png")
        try bytes.write(to: corrupt)
        let text = folder.appendingPathComponent("notes.png")
        try Data("not a picture\n".utf8).write(to: text)
        let cases: [(arguments: [String], names: String)] = [
            ([good.path, corrupt.path], corrupt.path),
            ([text.path], text.path),
            ([folder.appendingPathComponent("missing.pgm").path], "missing.pgm"),
            (["--invert", "sometimes", good.path], "--invert"),
            (["--classes", "cifar", good.path], "--classes"),
            ([], "IMAGE"),
        ]
        for (arguments, names) in cases {
            let result = try DPTrain.run(["predict", "--model", model.path] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(names), "\(result.stderr) should name \(names)")
            XCTAssertEqual(result.stdout, "", "nothing is printed for a batch with a bad image")
        }
    }

    /// Test digits `indices` in every variant test_images.py writes.
    private func writeMNISTImages(_ indices: [Int]) throws -> URL {
        let folder = try temporaryFolder()
        let status = PythonEnvironment.run("python3", [
            PythonEnvironment.scripts.appendingPathComponent("test_images.py").path, "mnist", DPTrain.mnistTest, folder.path,
        ] + indices.map(String.init))
        XCTAssertEqual(status, 0, "test_images.py failed")
        return folder
    }
}
