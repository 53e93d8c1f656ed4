extension GreyImage {
    /// Area resampling: each output pixel is the mean of the part of the
    /// input it covers, with partly covered input pixels weighted by the
    /// share they contribute. Shrinking this way keeps thin strokes (a
    /// nearest or bilinear pick would skip them); enlarging becomes a
    /// blocky copy with blended edges. The same size returns the image as it is.
    public func resized(width newWidth: Int, height newHeight: Int) -> GreyImage {
        precondition(newWidth > 0 && newHeight > 0, "target size must be positive")
        if newWidth == width && newHeight == height { return self }
        let columns = Self.coverage(from: width, to: newWidth)
        let rows = Self.coverage(from: height, to: newHeight)
        var out = [UInt8](repeating: 0, count: newWidth * newHeight)
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                var sum = 0.0, area = 0.0
                for (sourceY, weightY) in rows[y] {
                    for (sourceX, weightX) in columns[x] {
                        sum += Double(self[sourceX, sourceY]) * weightY * weightX
                        area += weightY * weightX
                    }
                }
                out[y * newWidth + x] = UInt8(min(255, max(0, (sum / area).rounded())))
            }
        }
        return GreyImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// For each output index along one axis, the input indices it overlaps
    /// and by how much (in input pixels).
    private static func coverage(from source: Int, to target: Int) -> [[(Int, Double)]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { index in
            let begin = Double(index) * scale, end = Double(index + 1) * scale
            var parts: [(Int, Double)] = []
            var pixel = Int(begin)
            while Double(pixel) < end && pixel < source {
                let overlap = min(end, Double(pixel + 1)) - max(begin, Double(pixel))
                if overlap > 1e-12 { parts.append((pixel, overlap)) }
                pixel += 1
            }
            return parts
        }
    }
}
