import ArgumentParser
import Foundation
import MLP
import ModelExport
import Training

/// `dptrain export`: a saved model in a format other tools load.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a saved model as ONNX, for onnxruntime and other tools.",
        discussion: """
            The ONNX graph takes "pixels", float32 [N, 784] with raw 0-255 values (it divides \
            by 255 itself, as dptrain does), and gives "probabilities" (softmax) and "logits", [N, 10].
            """)

    @Option(help: "A model written by training: RUN_DIR/model.safetensors.")
    var model: String
    @Option(help: "Output format: onnx.")
    var format: String
    @Option(help: "The file to write, e.g. model.onnx (written atomically).")
    var out: String

    func run() throws {
        guard format == "onnx" else { throw UsageError("--format: unknown '\(format)' (onnx)") }
        let destination = URL(fileURLWithPath: out)
        var isFolder: ObjCBool = false
        let folder = destination.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw UsageError("--out \(out): folder \(folder) does not exist")
        }
        let file = try Safetensors.read(from: URL(fileURLWithPath: model))
        let (architecture, parameters) = try ModelFile.decode(file, source: model)
        let bytes = ONNXExport.encode(parameters, architecture: architecture)
        do {
            try AtomicFile.write(bytes, to: destination)
        } catch let error as FileWriteError {
            // AtomicFile names its temporary file when it cannot make one; the user knows --out.
            throw FileWriteError(path: out, operation: error.operation, code: error.code)
        }
        print("wrote \(out) (ONNX opset \(ONNXExport.opsetVersion), \(bytes.count) bytes)")
    }
}
