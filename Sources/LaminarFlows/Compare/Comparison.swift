import Foundation
import LaminarAutodiff
import LaminarData
import LaminarNN

/// What a comparison run fits: a target energy by density matching, or a toy data set by
/// maximum likelihood.
public enum ComparisonTask: Sendable, Equatable, CustomStringConvertible {
    /// Minimise `KL(q‖p)` to `p ∝ exp(−E)` from the model's own samples.
    case density(TargetEnergy)
    /// Minimise the negative log-likelihood of fresh samples of a toy data set.
    case likelihood(ToyDataset)

    /// `density` or `likelihood`, as in the comparison table.
    public var kind: String {
        switch self {
        case .density: return "density"
        case .likelihood: return "likelihood"
        }
    }

    /// The target energy's or toy data set's name.
    public var target: String {
        switch self {
        case .density(let e): return e.rawValue
        case .likelihood(let d): return d.rawValue
        }
    }

    /// What the reported loss is.
    public var metric: String {
        switch self {
        case .density: return "KL(q‖p) nats"
        case .likelihood: return "test NLL nats"
        }
    }

    /// `"<kind> <target>"`, e.g. `density u1`.
    public var description: String { "\(kind) \(target)" }
}

/// Shared settings of every model in a comparison: same seed, optimizer and budget.
public struct ComparisonSettings: Sendable {
    /// Adam iterations per model.
    public var iterations: Int
    /// Samples per iteration (model samples for density matching, data for likelihood).
    public var batchSize: Int
    /// Adam's step size.
    public var learningRate: Double
    /// Seed of the initial weights, the batches and the evaluation samples (the same for every model).
    public var seed: UInt64
    /// Samples used for the final KL or NLL estimate.
    public var evaluationSamples: Int

    /// Settings with the given budget, batch, step size, seed and evaluation sample count.
    public init(iterations: Int = 1_000, batchSize: Int = 256, learningRate: Double = 1e-3, seed: UInt64 = 0, evaluationSamples: Int = 5_000) {
        self.iterations = iterations
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.evaluationSamples = evaluationSamples
    }
}

/// One row of the comparison table.
public struct ComparisonRow: Codable, Sendable {
    /// `density` or `likelihood`.
    public var task: String
    /// The target energy's or data set's name.
    public var target: String
    /// `planar`, `planar-cnf`, `realnvp`, `ffjord`, `resflow`.
    public var model: String
    /// Depth K (planar, residual flow), width M (planar CNF), 0 otherwise.
    public var size: Int
    /// Trainable scalars of the model.
    public var parameters: Int
    /// Final KL(q‖p) (density) or test NLL (likelihood), nats, exact log-determinants.
    public var loss: Double
    /// Standard error of `loss` over the evaluation samples.
    public var standardError: Double
    /// Function evaluations of the last training iteration (forward + backward; 0 for
    /// discrete flows).
    public var nfe: Int
    /// Training wall-clock seconds.
    public var seconds: Double
}

/// Trains and evaluates models for `laminar compare` (Chen et al. 2018, Fig. 4: planar flows
/// of depth K against planar CNFs of width M).
public enum Comparison {
    /// Trains `spec` on `task` with Adam and returns its row and the trained model.
    /// `progress(iteration, loss)` is called after every iteration; an error it throws stops the run.
    public static func run(
        _ spec: ModelSpec, task: ComparisonTask, settings: ComparisonSettings,
        progress: (Int, Double) throws -> Void = { _, _ in }
    ) throws -> (result: ComparisonRow, flow: AnyFlow<Float>) {
        var initRNG = RandomGenerator(seed: settings.seed)
        let flow: AnyFlow<Float> = try spec.build(using: &initRNG)
        let optimizer = Adam(parameters: flow.parameters, learningRate: settings.learningRate)
        let start = Date()
        var lastNFE = 0
        if case .likelihood(let toy) = task {
            var rng = RandomGenerator(seed: mix(settings.seed, 0, 0x70))
            try flow.prepare(toy.sample(settings.batchSize, using: &rng))
        }
        for i in 1...settings.iterations {
            var rng = RandomGenerator(seed: mix(settings.seed, UInt64(i), 0x70))
            var nfeForward = 0
            var backward: [BackwardCounter] = []
            let grads: [Tensor<Float>]
            let loss: Double
            do {
                (loss, grads) = try withGradient { () throws -> (Double, [Tensor<Float>]) in
                    let objective: Variable<Float>
                    switch task {
                    case .density(let energy):
                        let out = try flow.reverseKLLoss(energy, batch: settings.batchSize, using: &rng)
                        objective = out.loss
                        nfeForward = out.nfe
                    case .likelihood(let toy):
                        let x = Variable(toy.sample(settings.batchSize, using: &rng) as Tensor<Float>)
                        let out = try flow.trainingLoss(x, using: &rng)
                        objective = out.loss
                        nfeForward = out.nfeForward
                        backward = out.backward
                    }
                    return (Double(objective.value.scalar), gradients(of: objective, wrt: flow.parameters).map(\.value))
                }
            } catch {
                throw TrainingError.solverFailed(iteration: i, message: "\(spec.name): \(error)")
            }
            guard loss.isFinite, grads.allSatisfy({ $0.isFinite }) else {
                throw TrainingError.diverged(iteration: i, cause: "\(spec.summary): the loss or its gradient is not finite")
            }
            optimizer.step(gradients: grads)
            lastNFE = nfeForward + backward.reduce(0) { $0 + $1.nfe }
            try progress(i, loss)
        }
        let seconds = Date().timeIntervalSince(start)
        let (loss, standardError) = try evaluate(flow, task: task, settings: settings)
        var size = 0
        switch spec {
        case .planar(let c): size = c.depth
        case .planarCNF(let c): size = c.width
        case .residualFlow(let c): size = c.depth
        default: size = 0
        }
        let result = ComparisonRow(
            task: task.kind, target: task.target, model: spec.name, size: size, parameters: flow.parameterCount,
            loss: loss, standardError: standardError, nfe: lastNFE, seconds: seconds)
        return (result, flow)
    }

    /// KL(q‖p) (with the target's normalizer) or test NLL, and the standard error, on fresh
    /// samples drawn with a fixed evaluation seed.
    public static func evaluate(
        _ flow: AnyFlow<Float>, task: ComparisonTask, settings: ComparisonSettings
    ) throws -> (Double, Double) {
        var rng = RandomGenerator(seed: 12_345)
        switch task {
        case .likelihood(let toy):
            let points: Tensor<Float> = toy.sample(settings.evaluationSamples, using: &rng)
            let r = try Evaluation.negativeLogLikelihood(flow, points: points)
            return (r.nll, r.standardError)
        case .density(let energy):
            let logZ = energy.logNormalizer()
            var values: [Double] = []
            var remaining = settings.evaluationSamples
            while remaining > 0 {
                let n = Swift.min(1_000, remaining)
                let z = Tensor<Float>.randomNormal([n, 2], using: &rng)
                let v = try withoutGradient { () throws -> [Float] in
                    let out = try flow.inverse(Variable(z))
                    let logQ = standardNormalLogDensity(Variable(z)) - out.logDeterminant
                    return (logQ + energy.energy(out.value)).value.scalars
                }
                values += v.map { Double($0) + logZ }
                remaining -= n
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(Swift.max(1, values.count - 1))
            return (mean, (variance / Double(values.count)).squareRoot())
        }
    }

    /// An FFJORD (three hidden layers of equal width) or Real NVP (eight couplings, two hidden
    /// layers) whose parameter count is closest to `parameters`, for equal-size rows.
    public static func matchingSpec(_ family: String, parameters: Int, dimension: Int = 2) throws -> ModelSpec {
        func count(_ spec: ModelSpec) throws -> Int {
            var rng = RandomGenerator(seed: 0)
            let flow: AnyFlow<Float> = try spec.build(using: &rng)
            return flow.parameterCount
        }
        func make(_ h: Int) -> ModelSpec {
            family == "realnvp"
                ? .realNVP(RealNVPConfiguration(dimension: dimension, couplings: 8, hidden: [h, h]))
                : .ffjord(FFJORDConfiguration(dimension: dimension, hidden: [h, h, h]))
        }
        guard family == "realnvp" || family == "ffjord" else {
            throw FlowError.invalidConfiguration("equal-size rows exist for realnvp and ffjord, not '\(family)'")
        }
        var best = make(1)
        var bestGap = Int.max
        for h in 1...256 {
            let gap = Swift.abs(try count(make(h)) - parameters)
            if gap < bestGap { (best, bestGap) = (make(h), gap) }
        }
        return best
    }
}
