import Datasets
import Foundation
import MLP
import Training

/// `dptrain report RUN_DIR`: reads the run's metrics.jsonl, model and
/// run.json, runs the model over the test set, and writes RUN_DIR/report.html
/// atomically. Every problem with the folder is a `ReportError`,
/// `SafetensorsError` or `DatasetError` naming the file.
public enum RunReport {
    public static let fileName = "report.html"

    /// `source`: where the test set is, when run.json should not be asked (or is missing).
    @discardableResult
    public static func write(run path: String, source override: DataSource? = nil,
                             log: @escaping (String) -> Void) throws -> URL {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ReportError(path: path, problem: "no such run folder")
        }
        let run = URL(fileURLWithPath: path)
        let epochs = try EpochFigures.read(run.appendingPathComponent("metrics.jsonl"))
        let modelURL = run.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: modelURL.path) else {
            throw ReportError(path: modelURL.path, problem: "missing: the run has not finished (report needs its model)")
        }
        let (architecture, parameters) = try ModelFile.decode(try Safetensors.read(from: modelURL), source: modelURL.path)
        let (source, testFolder, dataset) = try testSet(run: run, override: override)
        let folder = try testFolder.map { URL(fileURLWithPath: $0) } ?? source.folder(log: log)
        let test = try DatasetFiles.load(directory: folder, split: .test)
        try TrainingData.check(test, named: "test", against: architecture)
        let predictions = TestPredictions(parameters: parameters, architecture: architecture, test: test)
        let report = HTMLReport(
            runName: run.standardizedFileURL.lastPathComponent, architecture: architecture, dataset: dataset,
            epochs: epochs, predictions: predictions, test: test,
            classNames: classNames(dataset: dataset, classes: architecture.outputSize))
        let target = run.appendingPathComponent(fileName)
        try AtomicFile.write(Array(report.html().utf8), to: target)
        return target
    }

    /// The data source, the test folder if it differs, and a name to show.
    private static func testSet(run: URL, override: DataSource?) throws -> (DataSource, String?, String) {
        if let override { return (override, nil, name(of: override)) }
        guard let description = try RunDescription.read(from: run) else {
            throw ReportError(path: RunDescription.url(in: run).path,
                              problem: "missing, so the test set is unknown: give --dataset NAME or --data DIR")
        }
        if let name = description.dataset, let known = DatasetName(rawValue: name) {
            return (.named(known), description.testData, name)
        }
        guard let data = description.data else {
            throw ReportError(path: RunDescription.url(in: run).path, problem: "names no data set and no data folder")
        }
        let source = DataSource.folder(data)
        return (source, description.testData, name(of: source))
    }

    /// The data set's names for its labels when it has as many, else the label numbers.
    private static func classNames(dataset: String, classes: Int) -> [String] {
        let names = DatasetName(rawValue: dataset)?.classNames ?? []
        return names.count == classes ? names : (0..<classes).map(String.init)
    }

    /// Folders named after a known data set (Debian's /usr/share/datasets/fashion-mnist) count as it.
    private static func name(of source: DataSource) -> String {
        switch source {
        case .named(let name): return name.rawValue
        case .folder(let path):
            let last = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
            return DatasetName(rawValue: last)?.rawValue ?? last
        }
    }
}
