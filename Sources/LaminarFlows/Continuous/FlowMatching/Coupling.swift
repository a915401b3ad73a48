/// How a flow-matching step pairs the batch's data rows with noise rows.
///
/// - `independent`: the noise as drawn (I-CFM; Lipman et al. 2023, Tong et al. 2024).
/// - `ot`: an exact minibatch optimal-transport assignment on squared distances (OT-CFM;
///   Tong et al. 2024, Pooladian et al. 2023): straighter conditional paths, fewer
///   function evaluations to sample.
/// - `sinkhorn`: each data row draws its noise row from the entropic OT plan's conditional
///   (`--ot-reg`, relative to the batch's largest squared distance).
/// - `reflow`: rectified flow's reflow (Liu et al. 2023): the data are replaced by a teacher
///   model's samples of the noise, so the pairs are the teacher's (noise, sample) pairs.
public enum CouplingKind: String, Codable, Sendable, CaseIterable {
    case independent
    case ot
    case sinkhorn
    case reflow
}

extension CouplingKind {
    /// Row `i` of the result is the noise row paired with data row `i`.
    /// `sinkhornRegularization` is used by `.sinkhorn` only; `.reflow` pairs are made by
    /// ``FlowMatching`` (they need the teacher) and leave the noise as drawn here.
    func pairedNoise<S: TensorScalar>(
        noise x0: Tensor<S>, data x1: Tensor<S>, sinkhornRegularization: Double, using rng: inout RandomGenerator
    ) -> Tensor<S> {
        switch self {
        case .independent, .reflow:
            return x0
        case .ot:
            let n = x0.shape[0]
            let assignment = LinearAssignment.solve(cost: LinearAssignment.squaredDistances(x1, x0), n: n)
            return x0.rows(assignment)
        case .sinkhorn:
            let n = x0.shape[0]
            let plan = Sinkhorn.plan(cost: LinearAssignment.squaredDistances(x1, x0), n: n,
                                     regularization: sinkhornRegularization)
            var chosen = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let rowMass = plan[(i * n)..<(i * n + n)].reduce(0, +)
                var target = rng.uniform() * rowMass
                chosen[i] = n - 1
                for j in 0..<n {
                    target -= plan[i * n + j]
                    if target < 0 { chosen[i] = j; break }
                }
            }
            return x0.rows(chosen)
        }
    }
}

extension Tensor {
    /// The rows `indices` of a matrix ([n, d] → [indices.count, d]), repeats allowed.
    func rows(_ indices: [Int]) -> Tensor {
        let d = shape[1]
        return withUnsafeBufferPointer { src in
            Tensor(shape: [indices.count, d]) { dst in
                for (i, r) in indices.enumerated() {
                    for k in 0..<d { dst[i * d + k] = src[r * d + k] }
                }
            }
        }
    }
}
