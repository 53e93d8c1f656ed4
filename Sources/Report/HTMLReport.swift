import Datasets
import Foundation
import MLP

/// report.html: one self-contained page (inline SVG and CSS, images as PNG
/// data URIs, no script, nothing fetched). The same figures travel as JSON
/// in a `<script type="application/json" id="report-data">` block, for
/// tests and for anyone who wants the numbers rather than the picture.
struct HTMLReport {
    var runName: String
    var architecture: Architecture
    var dataset: String
    var epochs: [EpochFigures]
    var predictions: TestPredictions
    var test: LabeledImages
    var classNames: [String]
    var mistakeCount = 24

    /// Series colours, distinct from the page's greys (the screenshot test looks for them).
    static let colors = (train: "#1f77b4", test: "#d62728", rate: "#2ca02c", speed: "#9467bd", workers: "#ff7f0e")

    func html() -> String {
        let confusion = predictions.confusion
        let summary = "\(architecture.layerSizes.map(String.init).joined(separator: "-")) \(architecture.activation.rawValue), "
            + "\(epochs.count) epoch\(epochs.count == 1 ? "" : "s") on \(dataset)"
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <title>dptrain report: \(escapeHTML(runName))</title>
        <style>\(Self.style)</style>
        </head>
        <body>
        <h1>dptrain report: \(escapeHTML(runName))</h1>
        <p class="summary">\(escapeHTML(summary)). Test accuracy <strong id="test-accuracy">\(String(format: "%.4f", confusion.accuracy))</strong> on <span id="test-samples">\(confusion.total)</span> test images (final epoch in metrics.jsonl: \(String(format: "%.4f", epochs.last?.testAccuracy ?? 0))).</p>
        <section id="curves">
        <h2>Training</h2>
        <div class="charts">
        \(charts().joined(separator: "\n"))
        </div>
        </section>
        <section id="confusion">
        <h2>Confusion matrix on the test set</h2>
        <p>Rows: the true class; columns: the predicted one. Precision: of the images predicted as a class, the share that were; recall: of the images of a class, the share found.</p>
        \(confusionTable())
        </section>
        <section id="mistakes">
        <h2>Most confident mistakes</h2>
        <div class="grid">
        \(mistakes())
        </div>
        </section>
        <script type="application/json" id="report-data">\(dataJSON())</script>
        </body>
        </html>

        """
    }

    private func charts() -> [String] {
        let c = Self.colors
        func perEpoch(_ value: (EpochFigures) -> Double?) -> [(x: Double, y: Double)] {
            epochs.compactMap { figures in value(figures).map { (Double(figures.epoch), $0) } }
        }
        func overTime(_ value: (EpochFigures) -> Double) -> [(x: Double, y: Double)] {
            epochs.map { ($0.elapsedSeconds, value($0)) }
        }
        var lossSeries = [LineChart.Series(name: "train loss", color: c.train, points: perEpoch { $0.loss })]
        if epochs.contains(where: { $0.testLoss != nil }) {
            lossSeries.append(.init(name: "test loss", color: c.test, points: perEpoch { $0.testLoss }))
        }
        return [
            LineChart(title: "Loss", xLabel: "epoch", series: lossSeries, wholeX: true),
            LineChart(title: "Accuracy", xLabel: "epoch", series: [
                .init(name: "train", color: c.train, points: perEpoch { $0.trainAccuracy }),
                .init(name: "test", color: c.test, points: perEpoch { $0.testAccuracy }),
            ], wholeX: true),
            LineChart(title: "Learning rate", xLabel: "epoch", series: [
                .init(name: "learning rate", color: c.rate, points: perEpoch { $0.learningRate }),
            ], wholeX: true),
            LineChart(title: "Samples per second", xLabel: "seconds since the start", series: [
                .init(name: "samples/s", color: c.speed, points: overTime { $0.samplesPerSecond }),
            ]),
            LineChart(title: "Live workers", xLabel: "seconds since the start", series: [
                .init(name: "workers", color: c.workers, points: overTime { Double($0.workers) }),
            ]),
        ].map { $0.svg() }
    }

    private func confusionTable() -> String {
        let confusion = predictions.confusion
        let classes = confusion.classes
        var rows = "<table class=\"confusion\"><thead><tr><th>true \\ predicted</th>"
        rows += classNames.map { "<th>\(escapeHTML($0))</th>" }.joined()
        rows += "<th>recall</th><th>images</th></tr></thead><tbody>"
        for actual in 0..<classes {
            let total = max(confusion.counts[actual].reduce(0, +), 1)
            rows += "<tr><th>\(escapeHTML(classNames[actual]))</th>"
            for predicted in 0..<classes {
                let count = confusion.counts[actual][predicted]
                let share = Double(count) / Double(total)
                let style = count == 0 ? "" : " style=\"background: rgba(31,119,180,\(String(format: "%.3f", 0.08 + 0.8 * share)))\(share > 0.5 ? "; color: #fff" : "")\""
                rows += "<td\(style)>\(count)</td>"
            }
            rows += "<td class=\"recall\">\(Self.share(confusion.recall(actual)))</td><td>\(confusion.counts[actual].reduce(0, +))</td></tr>"
        }
        rows += "<tr class=\"precision\"><th>precision</th>"
        rows += (0..<classes).map { "<td>\(Self.share(confusion.precision($0)))</td>" }.joined()
        return rows + "<td></td><td></td></tr></tbody></table>"
    }

    private func mistakes() -> String {
        let indices = predictions.confidentMistakes(labels: test.labels, count: mistakeCount)
        guard !indices.isEmpty else { return "<p>No test image was misclassified.</p>" }
        let size = test.inputSize
        return indices.map { index in
            let png = PNGImage.greyscale(width: test.columns, height: test.rows,
                                         pixels: test.pixels[(index * size)..<((index + 1) * size)])
            let truth = classNames[Int(test.labels[index])], guess = classNames[predictions.predicted[index]]
            let caption = "predicted \(guess) (\(Int((predictions.confidence[index] * 100).rounded()))%), truly \(truth)"
            return "<figure><img src=\"data:image/png;base64,\(Data(png).base64EncodedString())\" width=\"84\" height=\"84\" alt=\"test image \(index)\"/><figcaption>#\(index): \(escapeHTML(caption))</figcaption></figure>"
        }.joined(separator: "\n")
    }

    private func dataJSON() -> String {
        let confusion = predictions.confusion
        let mistakes = predictions.confidentMistakes(labels: test.labels, count: mistakeCount).map { index -> [String: Any] in
            ["index": index, "label": Int(test.labels[index]), "predicted": predictions.predicted[index],
             "confidence": predictions.confidence[index]]
        }
        let object: [String: Any] = [
            "run": runName, "dataset": dataset, "classes": classNames,
            "test_accuracy": confusion.accuracy, "test_samples": confusion.total,
            "confusion": confusion.counts,
            "precision": (0..<confusion.classes).map { confusion.precision($0).map { $0 as Any } ?? NSNull() },
            "recall": (0..<confusion.classes).map { confusion.recall($0).map { $0 as Any } ?? NSNull() },
            "epochs": epochs.map { figures -> [String: Any] in
                ["epoch": figures.epoch, "loss": figures.loss, "train_accuracy": figures.trainAccuracy,
                 "test_accuracy": figures.testAccuracy, "lr": figures.learningRate,
                 "samples_per_second": figures.samplesPerSecond, "workers": figures.workers,
                 "elapsed_seconds": figures.elapsedSeconds]
            },
            "mistakes": mistakes,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        // "</" would end the script element early.
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }

    private static func share(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }

    private static let style = """
        body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; }
        .chart { border: 1px solid #ddd; }
        table.confusion { border-collapse: collapse; font-size: 13px; }
        table.confusion th, table.confusion td { border: 1px solid #ccc; padding: 4px 7px; text-align: right; }
        tr.precision td, td.recall { font-style: italic; }
        .grid { display: flex; flex-wrap: wrap; gap: 10px; }
        figure { margin: 0; width: 120px; font-size: 11px; text-align: center; }
        figure img { image-rendering: pixelated; border: 1px solid #ccc; }
        """
}
