/// An 8-bit grey image, row-major, 0 black to 255 white: what every decoder
/// here produces and what a model's input is made from.
public struct GreyImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height, "pixels must fill width × height")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public subscript(x: Int, y: Int) -> UInt8 { pixels[y * width + x] }

    /// 255 − v everywhere: a dark digit on light paper becomes MNIST's light digit on black.
    public func inverted() -> GreyImage {
        GreyImage(width: width, height: height, pixels: pixels.map { 255 - $0 })
    }

    /// The mean of the outermost rows and columns. MNIST's backgrounds are
    /// black, so a light border says the picture is the other way round.
    public var borderMean: Double {
        var sum = 0, count = 0
        for y in 0..<height {
            for x in 0..<width where y == 0 || y == height - 1 || x == 0 || x == width - 1 {
                sum += Int(self[x, y])
                count += 1
            }
        }
        return Double(sum) / Double(count)
    }
}
