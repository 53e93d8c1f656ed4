import Foundation
import MLP

/// RUN_DIR/run.json: where the run's data came from, so that `dptrain
/// report RUN_DIR` can find the test set again without being told.
///
///     {"dataset":"fashion-mnist","data":null,"test_data":null}
///     {"dataset":null,"data":"/abs/mnist-5k","test_data":"/abs/mnist"}
public struct RunDescription: Equatable {
    /// A data set by name (looked up again), or nil.
    public var dataset: String?
    /// The training folder (--data), absolute, or nil.
    public var data: String?
    /// The folder of the t10k- pair when --test-data gave one, absolute.
    public var testData: String?

    public init(dataset: String?, data: String?, testData: String?) {
        self.dataset = dataset
        self.data = data.map(Self.absolute)
        self.testData = testData.map(Self.absolute)
    }

    public static func url(in run: URL) -> URL { run.appendingPathComponent("run.json") }

    public func write(to run: RunDirectory) throws {
        func field(_ value: String?) -> String { value.map(JSONText.quoted) ?? "null" }
        let text = "{\"dataset\":\(field(dataset)),\"data\":\(field(data)),\"test_data\":\(field(testData))}\n"
        try AtomicFile.write(Array(text.utf8), to: Self.url(in: run.url))
    }

    /// nil when the run has no run.json (written before there was one).
    public static func read(from run: URL) throws -> RunDescription? {
        let url = url(in: run)
        guard let bytes = FileManager.default.contents(atPath: url.path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
            throw RunDirectoryError(path: url.path, problem: "is not a JSON object")
        }
        return RunDescription(dataset: object["dataset"] as? String, data: object["data"] as? String,
                              testData: object["test_data"] as? String)
    }

    private static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
