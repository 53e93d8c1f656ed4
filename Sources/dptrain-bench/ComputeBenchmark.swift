import Foundation
import MLP

/// How close one training step comes to the machine's single-thread sgemm
/// peak. Every figure is the best of several timed repeats after warm-up,
/// because the cores are shared and only interference makes a run slower.
/// Both are timed in windows of about the same length (one 1024³ sgemm,
/// 512 samples of MLP steps: 10-15 ms): a longer window for the MLP than
/// for the peak is less often free of interference, which made the
/// fraction swing from 0.56 to 0.76 between runs on a busy host.
///
/// FLOPs of one step of an MLP with batch B, summed over layers (in, out):
///   forward 2·B·in·out; dW 2·B·in·out; dX 2·B·in·out except the first
///   layer; plus 7 per parameter for averaging (1) and the momentum update
///   (v = μv + g + λw: 4, w −= lr·v: 2). Elementwise work (bias, activation,
///   softmax) is not counted: it is overhead that the fraction should expose.
enum ComputeBenchmark {
    static let sizes = [784, 512, 256, 10]

    static func run() {
        BLAS.useOneThread()
        progress("BLAS kernels: \(BLAS.kernelName)")
        // Three passes of peak, MLP at 128 and MLP at 32, and the peak once
        // more, each figure the best over all its windows: a burst of load
        // from the host's other tenants, however long, then rarely covers
        // every window of one figure (a single pass read 0.54 once), and a
        // peak measured on both sides of every MLP window cannot flatter the
        // fraction.
        var peak = 0.0, train = 0.0, shard = 0.0
        for pass in 1...3 {
            peak = max(peak, sgemmPeakGFLOPS(n: 1024))
            train = max(train, mlpTrainGFLOPS(batch: 128))
            shard = max(shard, mlpTrainGFLOPS(batch: 32))
            progress(String(format: "pass %d: sgemm 1024³ %.1f, MLP step batch 128 %.1f, batch 32 %.1f GFLOP/s (best so far)",
                            pass, peak, train, shard))
        }
        peak = max(peak, sgemmPeakGFLOPS(n: 1024))
        progress(String(format: "sgemm 1024³, best of all: %.1f GFLOP/s", peak))
        let figures = [
            ("sgemm_peak_gflops", peak),
            ("mlp_train_gflops", train),
            ("mlp_shard_gflops", shard),
            ("mlp_fraction_of_peak", train / peak),
        ].map { "\"\($0.0)\": " + String(format: "%.4f", $0.1) }
        print("{" + (figures + ["\"blas_kernels\": \"\(BLAS.kernelName)\""]).joined(separator: ", ") + "}")
    }

    static func sgemmPeakGFLOPS(n: Int) -> Double {
        var generator = SeededGenerator(seed: 1)
        let a = (0..<n * n).map { _ in generator.nextSymmetric(bound: 1) }
        let b = (0..<n * n).map { _ in generator.nextSymmetric(bound: 1) }
        var c = [Float](repeating: 0, count: n * n)
        let seconds = c.withUnsafeMutableBufferPointer { c in
            bestTime(warmups: 2, repeats: 10, iterations: 1) {
                BLAS.sgemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1,
                           a: a, lda: n, b: b, ldb: n, beta: 0, c: c.baseAddress!, ldc: n)
            }
        }
        return 2 * Double(n * n * n) / seconds / 1e9
    }

    static func mlpTrainGFLOPS(batch: Int) -> Double {
        let architecture = try! Architecture(layerSizes: sizes, activation: .relu)
        let parameters = ParameterBuffer.initialised(architecture, seed: 1)
        let gradient = ParameterBuffer(architecture: architecture)
        let workspace = GradientWorkspace(architecture: architecture, maxBatch: batch)
        let sgd = SGD(parameterCount: architecture.parameterCount,
                      settings: OptimiserSettings(learningRate: 0.01, momentum: 0.9))
        // A pool of random pixel-like inputs in [0, 1) with random labels,
        // too many and too noisy to be memorised during the benchmark: a
        // memorised batch drives gradients and momentum into subnormal
        // floats, which real training does not, and whose slowness would
        // distort the figure.
        let samples = 8192
        var generator = SeededGenerator(seed: 2)
        let inputs = (0..<samples * architecture.inputSize).map { _ in 0.5 + 0.5 * generator.nextSymmetric(bound: 1) }
        let labels = (0..<samples).map { _ in UInt8(generator.next() % 10) }
        let scale = 1 / Float(batch)
        var next = 0

        let seconds = inputs.withUnsafeBufferPointer { allInputs in
            labels.withUnsafeBufferPointer { allLabels in
                bestTime(warmups: 10, repeats: 20, iterations: max(1, 512 / batch)) {
                    let x = UnsafeBufferPointer(rebasing: allInputs[next * architecture.inputSize..<(next + batch) * architecture.inputSize])
                    let y = UnsafeBufferPointer(rebasing: allLabels[next..<next + batch])
                    next = (next + batch) % samples
                    _ = workspace.computeGradient(parameters: parameters.readOnly, inputs: x, labels: y,
                                                  batch: batch, gradient: gradient.values)
                    let g = gradient.values.baseAddress!
                    for i in 0..<gradient.count { g[i] *= scale }
                    sgd.step(parameters: parameters.values, gradient: gradient.readOnly, learningRate: 0.01)
                }
            }
        }
        let products = zip(sizes, sizes.dropFirst()).map { Double($0 * $1) }
        let flops = 2 * Double(batch) * (2 * products.reduce(0, +) + products.dropFirst().reduce(0, +))
            + 7 * Double(architecture.parameterCount)
        return flops / seconds / 1e9
    }

    /// Seconds per call of `body`: the fastest of `repeats` timings of
    /// `iterations` calls each, after `warmups` untimed calls.
    static func bestTime(warmups: Int, repeats: Int, iterations: Int, _ body: () -> Void) -> Double {
        for _ in 0..<warmups { body() }
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<repeats {
            let elapsed = clock.measure { for _ in 0..<iterations { body() } }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = min(best, seconds / Double(iterations))
        }
        return best
    }

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
