import Clock
import Collective
import Foundation
import MLP
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The network every figure is about: 784-512-256-10, P = 535,818 parameters.
let benchArchitecture = try! Architecture(layerSizes: ComputeBenchmark.sizes, activation: .relu)

/// Samples per micro-shard, as dptrain's default: a global batch of 128 is 4 shards.
let benchShardSize = 32

/// What a worker of `benchArchitecture` accepts, as after a welcome.
let benchLimits = DecodingLimits.run(
    parameterCount: benchArchitecture.parameterCount, inputSize: benchArchitecture.inputSize, shardSize: benchShardSize)

/// A benchmark that could not finish; exits 1 with this line.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The median, because on shared cores a few timings are inflated by
/// other processes and the mean would follow them.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func milliseconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e6 }

func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
