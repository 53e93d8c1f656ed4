/// Turns unfiltered PNG rows of any colour type and depth into 8-bit grey:
/// 16-bit samples keep their high byte, 1-, 2- and 4-bit grey is stretched
/// to 0–255, colour becomes luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B),
/// and transparency (an alpha channel or tRNS) is laid over white, the way
/// viewers show a drawing on a transparent background.
enum PNGPixels {
    static func grey(_ rows: [UInt8], header: PNGHeader, palette: [UInt8], transparency: [UInt8],
                     bad: (String) -> ImageError) throws -> GreyImage {
        let depth = header.bitDepth, channels = header.channels, stride = header.rowBytes
        let largest = (1 << depth) - 1
        if header.colourType == 3 {
            guard !palette.isEmpty, palette.count % 3 == 0 else { throw bad("palette image without a valid PLTE chunk") }
        }

        /// Channel `channel` of pixel `x` in row `y`, at the file's own depth.
        func sample(_ x: Int, _ y: Int, _ channel: Int) -> Int {
            let row = y * stride
            switch depth {
            case 16: return Int(rows[row + (x * channels + channel) * 2]) << 8 | Int(rows[row + (x * channels + channel) * 2 + 1])
            case 8: return Int(rows[row + x * channels + channel])
            default:
                let bit = x * depth
                return Int(rows[row + bit / 8] >> (8 - depth - bit % 8)) & largest
            }
        }
        func eightBit(_ value: Int) -> Int { depth == 16 ? value >> 8 : depth == 8 ? value : value * 255 / largest }
        func luma(_ r: Int, _ g: Int, _ b: Int) -> Int { (299 * r + 587 * g + 114 * b + 500) / 1000 }
        /// tRNS for grey or RGB names one colour (two bytes a channel) that is fully transparent.
        func isTransparentColour(_ x: Int, _ y: Int) -> Bool {
            guard transparency.count >= channels * 2 else { return false }
            return (0..<channels).allSatisfy {
                sample(x, y, $0) == Int(transparency[2 * $0]) << 8 | Int(transparency[2 * $0 + 1])
            }
        }

        var pixels = [UInt8](repeating: 0, count: header.width * header.height)
        for y in 0..<header.height {
            for x in 0..<header.width {
                let value: Int, alpha: Int
                switch header.colourType {
                case 0:
                    value = eightBit(sample(x, y, 0)); alpha = isTransparentColour(x, y) ? 0 : 255
                case 2:
                    value = luma(eightBit(sample(x, y, 0)), eightBit(sample(x, y, 1)), eightBit(sample(x, y, 2)))
                    alpha = isTransparentColour(x, y) ? 0 : 255
                case 3:
                    let index = sample(x, y, 0)
                    guard index * 3 + 2 < palette.count else {
                        throw bad("pixel (\(x), \(y)) uses palette entry \(index) of \(palette.count / 3)")
                    }
                    value = luma(Int(palette[index * 3]), Int(palette[index * 3 + 1]), Int(palette[index * 3 + 2]))
                    alpha = index < transparency.count ? Int(transparency[index]) : 255
                case 4:
                    value = eightBit(sample(x, y, 0)); alpha = eightBit(sample(x, y, 1))
                default:
                    value = luma(eightBit(sample(x, y, 0)), eightBit(sample(x, y, 1)), eightBit(sample(x, y, 2)))
                    alpha = eightBit(sample(x, y, 3))
                }
                pixels[y * header.width + x] = UInt8((value * alpha + 255 * (255 - alpha) + 127) / 255)
            }
        }
        return GreyImage(width: header.width, height: header.height, pixels: pixels)
    }
}
