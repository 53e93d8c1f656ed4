/// Random numbers as a pure function of where they are used: (seed, step,
/// sample, purpose, index) hashed, with no generator state. Dropout masks
/// and augmentation shifts come from here, so the numbers a sample gets do
/// not depend on which worker computes it or what it computed before, and a
/// resumed run needs no generator state in its checkpoint.
///
/// `sample` is the sample's position in the step's global batch (shard id ×
/// shard size + position in the shard), the same on every worker.
public struct SampleNoise: Equatable, Sendable {
    /// The key of one sample at one step for one purpose (a dropout layer, a shift).
    public static func key(seed: UInt64, step: UInt64, sample: UInt64, purpose: UInt64) -> UInt64 {
        mix(mix(mix(seed ^ 0x6470_7472_6169_6E21) ^ step) ^ (sample &* 0x100 &+ purpose))
    }

    /// The `index`-th 64 random bits of a key.
    @inline(__always)
    public static func bits(_ key: UInt64, _ index: Int) -> UInt64 {
        mix(key &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// SplitMix64's finaliser (Stafford's Mix13): every input bit flips
    /// about half the output bits.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What changes a training gradient besides the weights and the data:
/// dropout, label smoothing and augmentation. Workers get it with their
/// welcome; evaluation ignores it.
public struct GradientOptions: Equatable, Sendable {
    /// Draws the dropout masks and the shifts.
    public var seed: UInt64
    /// The probability of dropping each hidden layer's units, one per hidden
    /// layer (empty: none).
    public var dropout: [Float]
    /// ε: the target is (1 − ε)·onehot + ε/classes.
    public var labelSmoothing: Float
    /// Images are shifted by up to this many pixels each way (0: not at all).
    public var shift: Int

    public init(seed: UInt64 = 0, dropout: [Float] = [], labelSmoothing: Float = 0, shift: Int = 0) {
        self.seed = seed
        self.dropout = dropout
        self.labelSmoothing = labelSmoothing
        self.shift = shift
    }

    /// Layer `hidden`'s dropout probability (0 when none is set).
    public func dropout(hidden: Int) -> Float { hidden < dropout.count ? dropout[hidden] : 0 }

    public var usesDropout: Bool { dropout.contains { $0 > 0 } }
}
