/// `evaluate --predictions FILE`: one CSV line per test image, in the data
/// set's order, for comparing dptrain's answers with other tools':
///
///     index,label,predicted,p0,p1,...
///     0,7,7,1.2e-06,...
///
/// Probabilities are printed in Float's shortest form that reads back to
/// the same bits.
public enum PredictionsFile {
    public static func encode(_ predictions: [Prediction], labels: [UInt8]) -> [UInt8] {
        precondition(predictions.count == labels.count, "one prediction per label")
        let classes = predictions.first?.probabilities.count ?? 0
        var text = (["index", "label", "predicted"] + (0..<classes).map { "p\($0)" }).joined(separator: ",") + "\n"
        for (index, prediction) in predictions.enumerated() {
            text += "\(index),\(labels[index]),\(prediction.label),"
            text += prediction.probabilities.map { "\($0)" }.joined(separator: ",") + "\n"
        }
        return Array(text.utf8)
    }
}
