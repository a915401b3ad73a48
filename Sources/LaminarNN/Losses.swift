import LaminarAutodiff

/// Mean softmax cross-entropy of `logits` ([n, k]) against integer `labels` (n values in
/// 0..<k): `mean(logsumexp(logits) − logits[label])`. Stable for large logits and
/// differentiable to any order.
public func crossEntropy<S>(_ logits: Variable<S>, labels: [Int]) -> Variable<S> {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count,
                 "crossEntropy: \(labels.count) labels for logits of shape \(logits.shape)")
    let n = logits.shape[0], k = logits.shape[1]
    var oneHot = [S](repeating: 0, count: n * k)
    for (i, label) in labels.enumerated() {
        precondition(label >= 0 && label < k, "crossEntropy: label \(label) outside 0..<\(k)")
        oneHot[i * k + label] = 1
    }
    let picked = (logits * Tensor(shape: [n, k], scalars: oneHot)).sum(axes: [1])
    return (logits.logSumExp(axes: [1]) - picked).mean()
}

/// Fraction of rows whose largest logit is at the label.
public func accuracy<S: TensorScalar>(_ logits: Tensor<S>, labels: [Int]) -> Double {
    let k = logits.shape[1]
    let v = logits.scalars
    var correct = 0
    for (i, label) in labels.enumerated() {
        let row = v[(i * k)..<(i * k + k)]
        if row.indices.max(by: { row[$0] < row[$1] }) == i * k + label { correct += 1 }
    }
    return labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
}
