extension DatasetName {
    /// What each label means, in label order: digits for MNIST, and the
    /// names Zalando publishes for Fashion-MNIST.
    public var classNames: [String] {
        switch self {
        case .mnist:
            return (0...9).map(String.init)
        case .fashionMNIST:
            return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        }
    }
}
