// swift-tools-version:6.0
import PackageDescription

// Targets point one way: MLP knows nothing of data files or ZeroMQ; Wire
// nothing of training; Training nothing of ZeroMQ (the compiler checks that
// `train` needs no wire); Cluster joins Training and Wire; the executable
// only parses flags and calls the libraries.
let package = Package(
    name: "dptrain",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dptrain", targets: ["dptrain"]),
        .executable(name: "dptrain-bench", targets: ["dptrain-bench"]),
        // LD_PRELOAD-ed by scripts/bench.sh to count heap allocations per step.
        .library(name: "AllocationCounter", type: .dynamic, targets: ["AllocationCounter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // No pkgConfig: Debian's libzmq.pc adds -isystem flags SwiftPM refuses,
        // and zmq.h sits in the default include path anyway.
        .systemLibrary(
            name: "CZeroMQ",
            providers: [.apt(["libzmq3-dev"]), .brew(["zeromq"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // The one monotonic clock, for every timeout and timing.
        .target(name: "Clock"),
        .target(name: "MLP", dependencies: ["COpenBLAS"]),
        .target(name: "Datasets", dependencies: [
            "CZlib", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // C only to write a block's code once per bit width, the width a constant in every shift.
        .target(name: "BitPacking"),
        .target(name: "Wire", dependencies: ["CZeroMQ", "Clock", "BitPacking"]),
        // C only to build its loops for AVX-512, AVX2 and SSE2 and pick one at run time.
        .target(name: "FixedPointKernels"),
        .target(name: "Collective", dependencies: ["MLP", "FixedPointKernels"]),
        .target(name: "Training", dependencies: [
            "MLP", "Datasets", "Collective", "Clock", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Other tools' formats: the ONNX writer. Images: PNG and PGM decoding for predict.
        .target(name: "ModelExport", dependencies: ["MLP"]),
        .target(name: "Images", dependencies: ["CZlib"]),
        // C only for what Swift cannot say about memory shared between processes: atomics on it, futexes.
        .target(name: "SharedMemorySync"),
        .target(name: "Cluster", dependencies: ["MLP", "Datasets", "Collective", "Training", "Wire", "Clock", "SharedMemorySync"]),
        // `dptrain report`: a run folder to one self-contained HTML page.
        .target(name: "Report", dependencies: ["Training", "MLP", "Datasets", "CZlib"]),
        .executableTarget(name: "dptrain", dependencies: [
            "Cluster", "Training", "Datasets", "MLP", "Wire", "ModelExport", "Images", "Report",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "dptrain-bench", dependencies: [
            "MLP", "COpenBLAS", "Clock", "Collective", "Training", "Cluster", "Wire",
        ]),
        // A preload library only: nothing imports it, so it exports no headers.
        .target(name: "AllocationCounter", publicHeadersPath: "."),

        .testTarget(name: "ClockTests", dependencies: ["Clock"]),
        .testTarget(name: "MLPTests", dependencies: ["MLP"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Clock"]),
        .testTarget(name: "CollectiveTests", dependencies: ["Collective", "MLP", "FixedPointKernels", "Wire"]),
        .testTarget(name: "TrainingTests", dependencies: [
            "Training", "Collective", "MLP", "Datasets", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Training", "Collective", "Wire", "MLP", "Datasets", "Clock"]),
        .testTarget(name: "ModelExportTests", dependencies: ["ModelExport", "MLP"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Training", "MLP", "Datasets"]),
        .testTarget(name: "dptrainTests", dependencies: ["dptrain", "Wire", "Training", "Collective", "MLP"]),
    ],
    swiftLanguageModes: [.v5]
)
