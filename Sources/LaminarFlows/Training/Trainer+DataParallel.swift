import Foundation
import LaminarNN

/// A training step's loss, statistics and function evaluations over all ranks.
struct StepTotals {
    /// Global-batch means.
    var loss: Double
    var nll: Double
    var regularizers: [String: Double]
    /// Function evaluations: the largest over the ranks and the mean.
    var nfeForwardMax: Int
    var nfeBackwardMax: Int
    var nfeForwardMean: Double
    var nfeBackwardMean: Double
    /// Wall-clock seconds in the collective, waiting for the slowest rank included.
    var allReduceSeconds: Double
}

extension FlowTrainer {
    /// The step's collective (after the gradients, before clipping and the optimizer): turns
    /// this rank's shard gradients into the global batch's in one all-reduce that also carries
    /// the loss terms and every rank's NFE, then applies the checks whose outcome must be the
    /// same on every rank (NFE budget, finite loss). In one process it only repackages.
    func reduceAcrossRanks(
        _ grads: inout [Tensor<F.Scalar>], objective: TrainingLoss<F.Scalar>, shard: BatchShard, iteration i: Int
    ) throws -> StepTotals {
        let names = objective.regularizers.keys.sorted()
        let start = Date()
        let reduced = try parallel.reduce(
            &grads, shard: shard,
            means: [Double(objective.loss.value.scalar), objective.nll] + names.map { objective.regularizers[$0]! },
            perRank: [Double(objective.nfeForward), Double(objective.nfeBackward)])
        let forward = reduced.perRank[0], backward = reduced.perRank[1]
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        let totals = StepTotals(
            loss: reduced.means[0], nll: reduced.means[1],
            regularizers: Dictionary(uniqueKeysWithValues: zip(names, reduced.means.dropFirst(2))),
            nfeForwardMax: Int(forward.max()!), nfeBackwardMax: Int(backward.max()!),
            nfeForwardMean: mean(forward), nfeBackwardMean: mean(backward),
            allReduceSeconds: Date().timeIntervalSince(start))
        if let budget = options.maxNFE, totals.nfeForwardMax > budget {
            throw TrainingError.nfeBudgetExceeded(iteration: i, nfe: totals.nfeForwardMax, budget: budget)
        }
        guard totals.loss.isFinite else {
            throw TrainingError.diverged(iteration: i, cause: "the loss is \(totals.loss)")
        }
        return totals
    }
}
