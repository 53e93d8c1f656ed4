import Foundation
import XCTest

/// `dptrain report RUN_DIR`: a well-formed page whose numbers are
/// metrics.jsonl's and evaluate's, drawn by a real browser (headless
/// Chromium from Debian, installed by scripts/setup.sh) into a screenshot
/// with the charts' colours where the charts are.
final class ReportCommandTests: XCTestCase {
    /// Parses the page with html.parser: every element closed in order, the
    /// numbers shown, the JSON block, and the images' data URIs decoded.
    private static let checker = """
    import base64, html.parser, json, sys
    VOID = {"meta", "img", "br", "hr", "link", "input"}
    class Page(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.errors, self.ids, self.current, self.data, self.images, self.svgs = [], [], {}, None, "", [], 0
            self.headers = []
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "img": self.images.append(attrs.get("src", ""))
            if tag == "svg": self.svgs += 1
            if tag in VOID: return
            self.stack.append(tag)
            if "id" in attrs: self.current = attrs["id"]; self.ids[self.current] = ""
            if tag == "th": self.headers.append("")
        def handle_startendtag(self, tag, attrs):
            if tag == "img": self.images.append(dict(attrs).get("src", ""))
        def handle_endtag(self, tag):
            if tag in VOID: return
            if not self.stack or self.stack[-1] != tag: self.errors.append(f"</{tag}> closes {self.stack[-1:] }")
            else: self.stack.pop()
            self.current = None
        def handle_data(self, data):
            if self.current is not None: self.ids[self.current] += data
            if self.stack and self.stack[-1] == "th": self.headers[-1] += data
    page = Page()
    page.feed(open(sys.argv[1], encoding="utf-8").read())
    page.close()
    if page.stack: page.errors.append(f"unclosed {page.stack}")
    pngs = [base64.b64decode(src.split(",", 1)[1]) for src in page.images if src.startswith("data:image/png;base64,")]
    print(json.dumps({"errors": page.errors, "shown_accuracy": page.ids.get("test-accuracy"),
                      "shown_samples": page.ids.get("test-samples"), "data": json.loads(page.ids["report-data"]),
                      "images": len(page.images), "pngs": sum(p.startswith(b"\\x89PNG\\r\\n\\x1a\\n") for p in pngs),
                      "svgs": page.svgs, "headers": page.headers,
                      "external": [s for s in page.images if not s.startswith("data:")]}))
    """

    /// Counts, in horizontal bands of 100 pixels of a screenshot, the
    /// pixels of each chart colour and those that are not white (Pillow).
    private static let screenshotCounter = """
    import json, sys
    from PIL import Image
    image = Image.open(sys.argv[1]).convert("RGB")
    width, height = image.size
    colours = {name: tuple(int(value[i:i + 2], 16) for i in (1, 3, 5)) for name, value in json.loads(sys.argv[2]).items()}
    bands = {name: [0] * ((height + 99) // 100) for name in colours}
    nonwhite = [0] * ((height + 99) // 100)
    for index, pixel in enumerate(image.getdata()):
        band = index // width // 100
        if pixel == (255, 255, 255): continue
        nonwhite[band] += 1
        for name, rgb in colours.items():
            if abs(pixel[0] - rgb[0]) <= 24 and abs(pixel[1] - rgb[1]) <= 24 and abs(pixel[2] - rgb[2]) <= 24:
                bands[name][band] += 1
    print(json.dumps({"width": width, "height": height, "bands": bands, "nonwhite": nonwhite}))
    """

    private let colours = ["train": "#1f77b4", "test": "#d62728", "rate": "#2ca02c", "speed": "#9467bd", "workers": "#ff7f0e"]

    func testTheReportIsWellFormedAgreesWithMetricsAndEvaluateAndRendersInChromium() throws {
        let out = try temporaryFolder()
        let trained = try DPTrain.run([
            "simulate", "--workers", "2", "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest,
            "--layers", "784,32,10", "--epochs", "3", "--batch-size", "128", "--seed", "9", "--out", out.path,
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let made = try DPTrain.run(["report", out.path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let page = out.appendingPathComponent("report.html")
        XCTAssertEqual(made.stdout, "report: \(page.path)\n")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: out.path).contains { $0.contains(".tmp-") })

        let checked = try Python.run(Self.checker, [page.path])
        XCTAssertEqual(checked.status, 0, checked.stderr)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: checked.stdout) as? [String: Any])
        XCTAssertEqual(parsed["errors"] as? [String], [], "not well-formed")
        XCTAssertEqual(parsed["svgs"] as? Int, 5, "loss, accuracy, learning rate, samples/s, workers")
        XCTAssertEqual(parsed["external"] as? [String], [], "everything inline")
        let data = try XCTUnwrap(parsed["data"] as? [String: Any])

        // Accuracy and the confusion matrix agree with evaluate.
        let evaluated = try DPTrain.run(["evaluate", "--model", out.appendingPathComponent("model.safetensors").path,
                                         "--data", DPTrain.mnistTest])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let evaluation = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        let accuracy = try XCTUnwrap(data["test_accuracy"] as? Double)
        XCTAssertEqual(accuracy, try XCTUnwrap(evaluation["test_accuracy"] as? Double), accuracy: 1e-6)
        XCTAssertEqual(parsed["shown_accuracy"] as? String, String(format: "%.4f", accuracy))
        XCTAssertEqual(parsed["shown_samples"] as? String, "10000")
        let confusion = try XCTUnwrap(data["confusion"] as? [[Int]])
        XCTAssertEqual(confusion.joined().reduce(0, +), 10_000)
        XCTAssertEqual(Double((0..<10).reduce(0) { $0 + confusion[$1][$1] }) / 10_000, accuracy, accuracy: 1e-12)
        let recall = try XCTUnwrap(data["recall"] as? [Double]), precision = try XCTUnwrap(data["precision"] as? [Double])
        for label in 0..<10 {
            XCTAssertEqual(recall[label], Double(confusion[label][label]) / Double(confusion[label].reduce(0, +)), accuracy: 1e-12)
            XCTAssertEqual(precision[label], Double(confusion[label][label]) / Double(confusion.map { $0[label] }.reduce(0, +)),
                           accuracy: 1e-12)
        }
        // The curves are metrics.jsonl's.
        let lines = try metrics(in: out)
        let epochs = try XCTUnwrap(data["epochs"] as? [[String: Any]])
        XCTAssertEqual(epochs.count, lines.count)
        for (shown, line) in zip(epochs, lines) {
            for key in ["epoch", "loss", "train_accuracy", "test_accuracy", "lr", "samples_per_second", "workers", "elapsed_seconds"] {
                XCTAssertEqual((shown[key] as? NSNumber)?.doubleValue, (line[key] as? NSNumber)?.doubleValue, key)
            }
        }
        // The mistakes: wrong, most confident first, each drawn as a PNG.
        let mistakes = try XCTUnwrap(data["mistakes"] as? [[String: Any]])
        XCTAssertEqual(mistakes.count, 24)
        XCTAssertTrue(mistakes.allSatisfy { ($0["label"] as? Int) != ($0["predicted"] as? Int) })
        let confidences = mistakes.compactMap { $0["confidence"] as? Double }
        XCTAssertEqual(confidences, confidences.sorted(by: >))
        XCTAssertEqual(parsed["pngs"] as? Int, 24)
        XCTAssertEqual(data["classes"] as? [String], (0..<10).map(String.init), "MNIST's classes are digits")

        try assertRendersInChromium(page)
    }

    func testFashionMNISTClassesAreNamed() throws {
        guard FileManager.default.fileExists(atPath: DPTrain.fashion) else {
            throw XCTSkip("Fashion-MNIST is not at \(DPTrain.fashion) (scripts/setup.sh installs it)")
        }
        let out = try temporaryFolder()
        let trained = try DPTrain.run([
            "train", "--data", DPTrain.fashion, "--layers", "784,16,10", "--epochs", "1", "--batch-size", "256",
            "--out", out.path,
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let made = try DPTrain.run(["report", out.path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let checked = try Python.run(Self.checker, [out.appendingPathComponent("report.html").path])
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: checked.stdout) as? [String: Any], checked.stderr)
        let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        XCTAssertEqual((parsed["data"] as? [String: Any])?["classes"] as? [String], names)
        let headers = try XCTUnwrap(parsed["headers"] as? [String])
        XCTAssertTrue(names.allSatisfy(headers.contains), "the table is headed by the names: \(headers)")
    }

    func testABadRunFolderExits2WithOneLine() throws {
        let empty = try temporaryFolder()
        let missing = empty.appendingPathComponent("nothing-here").path
        for (folder, needle) in [(missing, "no such run folder"), (empty.path, "metrics.jsonl")] {
            let result = try DPTrain.run(["report", folder])
            XCTAssertEqual(result.status, 2, result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(needle), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: URL(fileURLWithPath: folder).appendingPathComponent("report.html").path))
        }
        let noArgument = try DPTrain.run(["report"])
        XCTAssertEqual(noArgument.status, 2, noArgument.stderr)
    }

    private func assertRendersInChromium(_ page: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let browser = try XCTUnwrap(chromium, "no chromium: scripts/setup.sh installs it", file: file, line: line)
        let folder = try temporaryFolder()
        let shot = folder.appendingPathComponent("report.png")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        // --no-sandbox: Chromium refuses to run as root with its sandbox; the
        // page is our own file. A private profile folder, so nothing is shared.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--user-data-dir=\(folder.appendingPathComponent("profile").path)",
                             "--window-size=1280,1400", "--screenshot=\(shot.path)", page.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: shot.path), "chromium wrote no screenshot", file: file, line: line)
        let python = try PythonEnvironment.python(importing: ["PIL"], installs: [[["pillow"]]])
        let colours = String(decoding: try JSONSerialization.data(withJSONObject: self.colours), as: UTF8.self)
        let counted = try Python.run(Self.screenshotCounter, [shot.path, colours], python: python)
        XCTAssertEqual(counted.status, 0, counted.stderr, file: file, line: line)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: counted.stdout) as? [String: Any], file: file, line: line)
        let bands = try XCTUnwrap(result["bands"] as? [String: [Int]], file: file, line: line)
        // The charts sit in the top 1000 pixels (three rows of 260-pixel
        // charts under the title): each series' colour must be drawn there,
        // and no 100-pixel band below the title may be blank.
        for (name, counts) in bands {
            XCTAssertGreaterThan(counts.prefix(10).reduce(0, +), 100, "\(name)'s colour is not drawn in the charts: \(bands)",
                                 file: file, line: line)
        }
        let nonwhite = try XCTUnwrap(result["nonwhite"] as? [Int], file: file, line: line)
        XCTAssertTrue(nonwhite[1..<8].allSatisfy { $0 > 500 }, "a blank band where the charts are: \(nonwhite)",
                      file: file, line: line)
    }
}
