// swift-tools-version:6.0
import PackageDescription

// Targets point one way: MLP and Wire know nothing of each other; Cluster
// joins them; the executable only parses flags and calls Cluster.
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

        .target(name: "MLP", dependencies: ["COpenBLAS"]),
        .target(name: "Datasets", dependencies: [
            "CZlib", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Wire", dependencies: ["CZeroMQ"]),
        // C only to build its loops for AVX-512, AVX2 and SSE2 and pick one at run time.
        .target(name: "FixedPointKernels"),
        .target(name: "Collective", dependencies: ["MLP", "Wire", "FixedPointKernels"]),
        .target(name: "Cluster", dependencies: [
            "MLP", "Datasets", "Wire", "Collective", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "dptrain", dependencies: [
            "Cluster", "Datasets", "MLP",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "dptrain-bench", dependencies: ["MLP", "COpenBLAS", "Cluster", "Wire", "Collective"]),
        // A preload library only: nothing imports it, so it exports no headers.
        .target(name: "AllocationCounter", publicHeadersPath: "."),

        .testTarget(name: "MLPTests", dependencies: ["MLP"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
        .testTarget(name: "WireTests", dependencies: ["Wire"]),
        .testTarget(name: "CollectiveTests", dependencies: ["Collective", "MLP", "FixedPointKernels"]),
        .testTarget(name: "ClusterTests", dependencies: [
            "Cluster", "MLP", "Datasets", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "dptrainTests", dependencies: ["dptrain", "Wire"]),
    ],
    swiftLanguageModes: [.v5]
)
