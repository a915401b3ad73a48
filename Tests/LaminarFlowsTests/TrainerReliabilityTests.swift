import Foundation
import Testing
import LaminarFlows
import LaminarNN
import LaminarODE

/// A Real NVP whose loss misbehaves on chosen iterations: NaN, or a solver failure.
final class FaultyFlow: Flow {
    let base: RealNVP<Float>
    var calls = 0
    let nanCalls: Set<Int>
    let solverFailureCalls: Set<Int>

    init(nanCalls: Set<Int> = [], solverFailureCalls: Set<Int> = []) throws {
        var rng = RandomGenerator(seed: 3)
        base = try RealNVP(RealNVPConfiguration(dimension: 2, couplings: 2, hidden: [8]), using: &rng)
        self.nanCalls = nanCalls
        self.solverFailureCalls = solverFailureCalls
    }

    var dimension: Int { 2 }
    var namedParameters: [(String, Variable<Float>)] { base.namedParameters }
    func forward(_ x: Variable<Float>) throws -> FlowOutput<Float> { try base.forward(x) }
    func inverse(_ z: Variable<Float>) throws -> FlowOutput<Float> { try base.inverse(z) }

    func trainingLoss(_ x: Variable<Float>, using rng: inout RandomGenerator) throws -> TrainingLoss<Float> {
        calls += 1
        if solverFailureCalls.contains(calls) { throw ODEError.stepSizeUnderflow(t: 0.25, h: 1e-15) }
        var loss = try base.trainingLoss(x, using: &rng)
        if nanCalls.contains(calls) { loss.loss = loss.loss * Float.nan }
        return loss
    }
}

/// Divergence, NFE budgets and solver failures stop training with a message naming the
/// iteration and keep the last good checkpoint; `restore-and-halve-lr` continues instead.
@Suite struct TrainerReliabilityTests {
    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func trainer<F: Flow>(_ flow: F, _ options: TrainingOptions, _ dir: URL) throws -> FlowTrainer<F> where F.Scalar == Float {
        try FlowTrainer(flow: flow, options: options, source: .toy(.eightGaussians), directory: dir, metadata: ["model": "test"])
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try directory()
        let t = try trainer(try FaultyFlow(nanCalls: [7]), TrainingOptions(iterations: 10, batchSize: 32, checkpointEvery: 5), dir)
        do {
            try t.train()
            Issue.record("training went on after a NaN loss")
        } catch let error as TrainingError {
            guard case .diverged(let iteration, _) = error else { Issue.record("\(error)"); return }
            #expect(iteration == 7)
            #expect("\(error)".contains("iteration 7") && "\(error)".contains("checkpoint"))
        }
        let checkpoint = try Checkpoint<Float>.load(from: t.checkpointURL)
        #expect(checkpoint.metadata["iteration"] == "5")
        for (_, tensor) in checkpoint.tensors { #expect(tensor.isFinite) }
    }

    @Test func restoreAndHalveLearningRateContinues() throws {
        let dir = try directory()
        let options = TrainingOptions(iterations: 10, batchSize: 32, checkpointEvery: 5, onDivergence: .restoreAndHalveLR)
        let t = try trainer(try FaultyFlow(nanCalls: [7]), options, dir)
        try t.train()
        #expect(t.iteration == 10)
        let lines = try String(contentsOf: t.metricsURL, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 10)
        let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any]
        #expect(last?["lr"] as? Double == 5e-4)
    }

    @Test func solverFailureNamesTheIterationAndCause() throws {
        let dir = try directory()
        let t = try trainer(try FaultyFlow(solverFailureCalls: [3]), TrainingOptions(iterations: 5, batchSize: 16, checkpointEvery: 2), dir)
        #expect {
            try t.train()
        } throws: { error in
            guard case TrainingError.solverFailed(let iteration, let message) = error else { return false }
            return iteration == 3 && message.contains("step size underflow")
        }
        #expect(try Checkpoint<Float>.load(from: t.checkpointURL).metadata["iteration"] == "2")
    }

    @Test func nfeBudgetIsEnforced() throws {
        let dir = try directory()
        var rng = RandomGenerator(seed: 1)
        let flow = try FFJORD<Float>(FFJORDConfiguration(dimension: 2, hidden: [8]), using: &rng)
        let t = try trainer(flow, TrainingOptions(iterations: 3, batchSize: 16, maxNFE: 4), dir)
        #expect {
            try t.train()
        } throws: { error in
            guard case TrainingError.nfeBudgetExceeded(let iteration, let nfe, let budget) = error else { return false }
            return iteration == 1 && nfe > 4 && budget == 4 && "\(error)".contains("--max-nfe")
        }
    }
}
