import Datasets

extension TrainingData {
    /// The training split with a seeded `fraction` of it held out as
    /// validation data (at least one sample each side). Which samples are
    /// held out is a pure function of (seed, count), drawn from the epoch
    /// order of an epoch training never reaches, so any process gets the same split.
    public func holdingOut(fraction: Double, seed: UInt64) -> TrainingData {
        guard fraction > 0 else { return self }
        let count = train.count
        let held = min(max(1, Int((fraction * Double(count)).rounded())), count - 1)
        let order = EpochOrder.permutation(count: count, seed: seed, epoch: -1)
        let validationIndices = order[0..<held].map(Int.init).sorted()
        let trainingIndices = order[held...].map(Int.init).sorted()
        return TrainingData(train: train.subset(trainingIndices), test: test, validation: train.subset(validationIndices))
    }
}

extension LabeledImages {
    /// The samples at `indices`, in that order.
    func subset(_ indices: [Int]) -> LabeledImages {
        let size = inputSize
        var pixels = [UInt8]()
        pixels.reserveCapacity(indices.count * size)
        for index in indices { pixels += self.pixels[(index * size)..<((index + 1) * size)] }
        return LabeledImages(rows: rows, columns: columns, pixels: pixels, labels: indices.map { labels[$0] })
    }
}
