import MLP

/// Augmentation by translation: each image moves by (dx, dy), each drawn
/// uniformly from −maxShift...maxShift, as a pure function of (seed, step,
/// the sample's position in the step's batch); what moves out is lost, what
/// comes in is 0 (black). Square images only (width = height = √inputSize).
struct RandomShift {
    let maxShift: Int
    let side: Int
    let seed: UInt64
    /// SampleNoise purpose, apart from the dropout layers' 0, 1, ...
    static let purpose: UInt64 = 0xFF

    /// The shift of one sample: (dx, dy).
    func offsets(step: UInt64, sample: UInt64) -> (dx: Int, dy: Int) {
        let key = SampleNoise.key(seed: seed, step: step, sample: sample, purpose: Self.purpose)
        let choices = UInt64(2 * maxShift + 1)
        return (Int(SampleNoise.bits(key, 0) % choices) - maxShift, Int(SampleNoise.bits(key, 1) % choices) - maxShift)
    }

    /// Writes `samples` shifted images from `source` to `target` (side × side bytes each).
    func apply(_ source: UnsafePointer<UInt8>, into target: UnsafeMutablePointer<UInt8>, samples: Int,
               step: UInt64, firstSample: UInt64) {
        let pixels = side * side
        for s in 0..<samples {
            let (dx, dy) = offsets(step: step, sample: firstSample + UInt64(s))
            let from = source + s * pixels, to = target + s * pixels
            to.update(repeating: 0, count: pixels)
            // Target column c takes source column c − dx, where both exist.
            let firstColumn = max(0, dx), width = side - abs(dx)
            guard width > 0 else { continue }
            for row in max(0, dy)..<min(side, side + dy) {
                (to + row * side + firstColumn).update(from: from + (row - dy) * side + firstColumn - dx, count: width)
            }
        }
    }
}
