/// What the ten labels mean: Fashion-MNIST's published names, digits for
/// MNIST and anything else.
public enum ClassNames {
    public static let fashionMNIST = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    public static func names(dataset: String?, classes: Int) -> [String] {
        if dataset == "fashion-mnist", classes == fashionMNIST.count { return fashionMNIST }
        return (0..<classes).map(String.init)
    }
}
