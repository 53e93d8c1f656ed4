/// Bounds on what a decoder will allocate for one image.
enum ImageLimits {
    /// 64 megapixels: far beyond any digit a user would classify.
    static let largestPixelCount = 1 << 26
}
