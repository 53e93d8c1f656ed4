/// Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth), each
/// predicting a byte from the byte one pixel to the left (a), the byte above
/// (b) and the one above-left (c).
enum PNGFilters {
    /// The raw rows, `header.rowBytes` each, without their filter bytes.
    static func unfilter(_ filtered: [UInt8], header: PNGHeader, bad: (String) -> ImageError) throws -> [UInt8] {
        let stride = header.rowBytes
        // The distance to "the same byte of the previous pixel"; 1 below a byte per pixel.
        let step = max(1, header.bitsPerPixel / 8)
        var rows = [UInt8](repeating: 0, count: header.height * stride)
        for y in 0..<header.height {
            let filter = filtered[y * (stride + 1)]
            let source = y * (stride + 1) + 1, row = y * stride, above = row - stride
            for i in 0..<stride {
                let x = filtered[source + i]
                let a = i >= step ? Int(rows[row + i - step]) : 0
                let b = y > 0 ? Int(rows[above + i]) : 0
                let c = y > 0 && i >= step ? Int(rows[above + i - step]) : 0
                let prediction: Int
                switch filter {
                case 0: prediction = 0
                case 1: prediction = a
                case 2: prediction = b
                case 3: prediction = (a + b) / 2
                case 4: prediction = paeth(a, b, c)
                default: throw bad("row \(y) has unknown filter type \(filter)")
                }
                rows[row + i] = x &+ UInt8(truncatingIfNeeded: prediction)
            }
        }
        return rows
    }

    /// Whichever of a, b, c is closest to a + b − c, ties in that order.
    private static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }
}
