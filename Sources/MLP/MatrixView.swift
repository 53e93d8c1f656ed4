/// A matrix M [rows, columns] over Floats stored row-major either as M
/// itself or as Mᵀ. The layers write their maths in terms of M and leave
/// the storage to the workspace: which way round an activation is stored
/// changes only how fast OpenBLAS packs it, never what is computed.
struct MatrixView {
    let base: UnsafeMutablePointer<Float>
    let rows: Int
    let columns: Int
    /// The memory holds Mᵀ, [columns, rows] row-major.
    let storedTransposed: Bool

    var leadingDimension: Int { storedTransposed ? rows : columns }

    /// Mᵀ over the same memory.
    var t: MatrixView {
        MatrixView(base: base, rows: columns, columns: rows, storedTransposed: !storedTransposed)
    }

    /// C = A·B, or C += A·B when `accumulate` is set.
    static func multiply(_ a: MatrixView, _ b: MatrixView, into c: MatrixView, accumulate: Bool = false) {
        precondition(a.columns == b.rows && c.rows == a.rows && c.columns == b.columns, "matrix shapes do not chain")
        let beta: Float = accumulate ? 1 : 0
        if c.storedTransposed {
            // Cᵀ = Bᵀ·Aᵀ, and a view stored transposed is its transpose stored plainly.
            BLAS.sgemm(transposeA: !b.storedTransposed, transposeB: !a.storedTransposed,
                       m: c.columns, n: c.rows, k: a.columns,
                       alpha: 1, a: b.base, lda: b.leadingDimension, b: a.base, ldb: a.leadingDimension,
                       beta: beta, c: c.base, ldc: c.leadingDimension)
        } else {
            BLAS.sgemm(transposeA: a.storedTransposed, transposeB: b.storedTransposed,
                       m: c.rows, n: c.columns, k: a.columns,
                       alpha: 1, a: a.base, lda: a.leadingDimension, b: b.base, ldb: b.leadingDimension,
                       beta: beta, c: c.base, ldc: c.leadingDimension)
        }
    }

    /// Sets every row to `vector` (`columns` values).
    func fillRows(with vector: UnsafePointer<Float>) {
        if storedTransposed {
            for j in 0..<columns { (base + j * rows).update(repeating: vector[j], count: rows) }
        } else {
            for row in 0..<rows { (base + row * columns).update(from: vector, count: columns) }
        }
    }

    /// sums[j] = Σ over the rows of M[row, j], in an order fixed by the shape
    /// alone, so the same shape gives the same bits.
    func sumRows(into sums: UnsafeMutablePointer<Float>) {
        if storedTransposed {
            for j in 0..<columns { sums[j] = Self.sum(base + j * rows, count: rows) }
        } else {
            sums.update(from: base, count: columns)
            for row in 1..<rows {
                let values = base + row * columns
                for j in 0..<columns { sums[j] += values[j] }
            }
        }
    }

    /// A contiguous sum in sixteen interleaved partial sums: a single running
    /// sum is one long chain of dependent additions, which the compiler may
    /// not reorder into vector lanes by itself.
    private static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        typealias Lanes = SIMD16<Float>
        var partial = Lanes()
        let whole = count / Lanes.scalarCount * Lanes.scalarCount
        for start in stride(from: 0, to: whole, by: Lanes.scalarCount) {
            partial += UnsafeRawPointer(values + start).loadUnaligned(as: Lanes.self)
        }
        var total = partial.sum()
        for i in whole..<count { total += values[i] }
        return total
    }
}
