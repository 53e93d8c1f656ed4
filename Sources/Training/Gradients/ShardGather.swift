import Datasets

/// Gathers micro-shards' pixels and labels from the data set, in the
/// epoch's sample order, one shard after another: the layout a work message
/// carries and `ShardGradientComputer.addShards` reads. `train` gathers into
/// this object's own buffers; the coordinator into buffers its frames point at.
public final class ShardGather {
    /// Grown to the largest gather seen, then kept: a steady run allocates nothing here.
    public private(set) var pixels = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    public private(set) var labels = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    /// Samples in the last gather.
    public private(set) var samples = 0
    private var inputSize = 0

    public init() {}

    deinit {
        pixels.deallocate()
        labels.deallocate()
    }

    /// Gathers shards `shards` (indices into `work.shards`) into the own buffers.
    /// Not generic, like `gather`: a step's gathering allocates nothing,
    /// also when called from another module.
    public func fill(from data: LabeledImages, work: StepWork, shards: Range<Int>) {
        let needed = shards.reduce(0) { $0 + work.shards[$1].count }
        if labels.count < needed {
            pixels.deallocate()
            labels.deallocate()
            pixels = .allocate(capacity: needed * data.inputSize)
            labels = .allocate(capacity: needed)
        }
        inputSize = data.inputSize
        samples = Self.gather(from: data, work: work, shards: shards, pixels: pixels, labels: labels)
    }

    public var filledPixels: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: pixels[0..<(samples * inputSize)]) }
    public var filledLabels: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: labels[0..<samples]) }

    /// Gathers into buffers of the caller's, which must hold the shards'
    /// samples; returns how many samples were written.
    @discardableResult
    public static func gather(
        from data: LabeledImages, work: StepWork, shards: Range<Int>,
        pixels: UnsafeMutableBufferPointer<UInt8>, labels: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        gatherAny(from: data, work: work, shards: shards, pixels: pixels, labels: labels)
    }

    /// The same for a list of shards that need not be contiguous.
    @discardableResult
    public static func gather(
        from data: LabeledImages, work: StepWork, shards: [Int],
        pixels: UnsafeMutableBufferPointer<UInt8>, labels: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        gatherAny(from: data, work: work, shards: shards, pixels: pixels, labels: labels)
    }

    private static func gatherAny<Shards: Collection>(
        from data: LabeledImages, work: StepWork, shards: Shards,
        pixels: UnsafeMutableBufferPointer<UInt8>, labels: UnsafeMutableBufferPointer<UInt8>
    ) -> Int where Shards.Element == Int {
        var offset = 0
        for shard in shards {
            let positions = work.shards[shard]
            PixelScaling.gather(
                of: data, positions: positions, order: work.order,
                intoPixels: UnsafeMutableBufferPointer(rebasing: pixels[(offset * data.inputSize)...]),
                intoLabels: UnsafeMutableBufferPointer(rebasing: labels[offset...]))
            offset += positions.count
        }
        return offset
    }
}
