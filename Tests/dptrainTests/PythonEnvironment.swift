import Foundation
import XCTest

/// A Python virtual environment for the tests that check dptrain's models
/// in other tools (onnxruntime, PyTorch). It lives under the user's cache
/// ($XDG_CACHE_HOME or ~/.cache, `dptrain-venv`), so PyPI packages are
/// installed once and CI reuses them; pip runs under flock, so test runs in
/// parallel do not install into it at the same time.
enum PythonEnvironment {
    static let folder: URL = {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return cache.appendingPathComponent("dptrain-venv")
    }()

    static var python: String { folder.appendingPathComponent("bin/python").path }
    static let scripts = DPTrain.repository.appendingPathComponent("scripts/lib")

    /// The environment's python once `modules` import, trying each way of
    /// installing them in turn (each a list of pip invocations); skips the
    /// test only when none works.
    static func python(importing modules: [String], installs: [[[String]]]) throws -> String {
        let check = ["-c", modules.map { "import \($0)" }.joined(separator: "; ")]
        if FileManager.default.fileExists(atPath: python), run(python, check) == 0 { return python }
        try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        let lock = folder.path + ".lock"
        if !FileManager.default.fileExists(atPath: python) {
            guard run("flock", [lock, "python3", "-m", "venv", folder.path]) == 0 else {
                throw XCTSkip("cannot make a Python virtual environment at \(folder.path) (python3 -m venv failed)")
            }
        }
        for attempt in installs {
            _ = attempt.allSatisfy { run("flock", [lock, python, "-m", "pip", "install", "--quiet"] + $0) == 0 }
            if run(python, check) == 0 { return python }
        }
        throw XCTSkip("cannot install \(modules.joined(separator: ", ")) from PyPI into \(folder.path)")
    }

    /// onnxruntime, the onnx package (its checker) and numpy.
    static func withONNXRuntime() throws -> String {
        try python(importing: ["onnxruntime", "onnx", "numpy"], installs: [[["onnxruntime", "onnx", "numpy"]]])
    }

    /// PyTorch, safetensors and numpy. The default Linux torch wheel pulls
    /// about 2 GB of CUDA libraries, so CPU-only wheels come first: PyTorch's
    /// CPU index, then a wheel pip's own configuration offers without an
    /// index (find-links; its dependencies from PyPI), and plain PyPI last.
    static func withTorch() throws -> String {
        let base = ["safetensors", "numpy"]
        return try python(importing: ["torch", "safetensors", "numpy"], installs: [
            [["--retries", "0", "--timeout", "20", "--index-url", "https://download.pytorch.org/whl/cpu", "torch"], base],
            [["--no-deps", "--no-index", "torch"], ["torch"] + base],
            [["torch"] + base],
        ])
    }

    /// Runs a script of scripts/lib and parses the JSON object its last line prints.
    static func json(_ python: String, script: String, _ arguments: [String]) throws -> [String: Any] {
        let output = try temporaryFolder().appendingPathComponent("python-output")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let status = run(python, [scripts.appendingPathComponent(script).path] + arguments, output: output)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0, let last = text.split(separator: "\n").last,
              let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            throw PythonFailure(description: "\(script) exited \(status): \(text)")
        }
        return object
    }

    struct PythonFailure: Error, CustomStringConvertible { let description: String }

    /// Runs a program found on PATH, its output to `output` (or discarded).
    @discardableResult
    static func run(_ program: String, _ arguments: [String], output: URL? = nil) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        if let output, let handle = try? FileHandle(forWritingTo: output) {
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
