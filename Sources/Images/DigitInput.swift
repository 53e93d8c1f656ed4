/// Whether to turn a picture into MNIST's light-on-dark before classifying.
public enum InvertPolicy: String, CaseIterable, Sendable {
    /// Invert when the border is mostly light (a dark digit on paper).
    case auto
    case always
    case never
}

extension GreyImage {
    /// The picture as a model trained on MNIST-format data sees it: resized
    /// to `side`×`side` (area resampling) and, if the policy says so,
    /// inverted so the background is dark. No centring or cropping: crop the
    /// digit roughly to a square first, as MNIST's digits fill most of theirs.
    public func modelInput(side: Int, invert policy: InvertPolicy) -> (image: GreyImage, inverted: Bool) {
        let resized = self.resized(width: side, height: side)
        let invert: Bool
        switch policy {
        case .always: invert = true
        case .never: invert = false
        case .auto: invert = resized.borderMean > 127.5
        }
        return (invert ? resized.inverted() : resized, invert)
    }
}
