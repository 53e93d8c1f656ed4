import ArgumentParser
import Training
import Datasets

/// Where the images come from: by name or by folder. Shared by the training
/// commands and evaluate.
struct DataOptions: ParsableArguments {
    @Option(help: "Data set by name: mnist or fashion-mnist (looked up, downloaded if missing).")
    var dataset: String?
    @Option(help: "Folder of IDX files: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] and the t10k- pair (evaluate reads only t10k-).")
    var data: String?

    func source() throws -> DataSource {
        switch (dataset, data) {
        case (nil, nil): throw UsageError("give --dataset mnist|fashion-mnist or --data DIR")
        case (.some, .some): throw UsageError("give --dataset or --data, not both")
        case (nil, .some(let folder)): return .folder(folder)
        case (.some(let name), nil):
            guard let known = DatasetName(rawValue: name) else {
                let names = DatasetName.allCases.map(\.rawValue).joined(separator: ", ")
                throw UsageError("--dataset: unknown '\(name)' (\(names))")
            }
            return .named(known)
        }
    }
}
