// The only file that talks to a BLAS library: OpenBLAS everywhere, Accelerate
// where it exists (macOS), behind the same calls.
#if canImport(Accelerate)
import Accelerate
#else
import COpenBLAS
#endif
import Foundation

public enum BLAS {
    /// Pins BLAS to one thread: the trainer runs one process per core, and
    /// a threaded sgemm would both oversubscribe the machine and pick
    /// different summation orders. OpenBLAS reads OPENBLAS_NUM_THREADS only
    /// when it loads, so it is told directly; Accelerate reads its variable
    /// when its thread pool starts, so call this before the first sgemm.
    public static func useOneThread() {
        #if canImport(Accelerate)
        setenv("VECLIB_MAXIMUM_THREADS", "1", 1)
        #else
        openblas_set_num_threads(1)
        #endif
    }

    /// Which kernel set the library runs, e.g. "SkylakeX"; OpenBLAS picks it
    /// at load time and falls back to a slow generic one ("Prescott") on a
    /// processor it does not know, which is worth seeing in a benchmark.
    public static var kernelName: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        #endif
    }

    /// Σ xᵢ², for the gradient norm that TensorBoard shows.
    public static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Float {
        guard let base = x.baseAddress, !x.isEmpty else { return 0 }
        return cblas_sdot(Int32(x.count), base, 1, base, 1)
    }

    /// C[m, n] = alpha · op(A) · op(B) + beta · C, every matrix row-major,
    /// op(X) being Xᵀ when its flag is set (A is then stored [k, m], B [n, k]).
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
