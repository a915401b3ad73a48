/// Optimisation settings of a training run, the same for every model; stored in checkpoints
/// (metadata key `training`, JSON) so that `--resume` continues the same run.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// Total number of iterations (counting those before a resume).
    public var iterations: Int
    /// Rows (points, images, series) in one global batch, over all ranks.
    public var batchSize: Int
    /// Adam's learning rate (before warm-up and divergence halvings).
    public var learningRate: Double
    /// Adam's L2 weight decay (FFJORD's toy runs use 1e-5).
    public var weightDecay: Double
    /// Linear learning-rate warm-up length in iterations (0: none).
    public var warmup: Int
    /// Gradients are rescaled to this global norm when larger (nil: no clipping).
    public var gradientClip: Double?
    /// Seed of the run's generator (data, noise).
    public var seed: UInt64
    /// A checkpoint every this many iterations (and at the end).
    public var checkpointEvery: Int
    /// Stop with an error when one iteration needs more function evaluations than this.
    public var maxNFE: Int?
    /// What to do when the loss or gradients stop being finite.
    public var onDivergence: DivergencePolicy
    /// Stop cleanly (checkpoint written) once training has used this many wall-clock seconds,
    /// counted across resumes; nil: no limit.
    public var timeBudget: Double?

    /// Options with FFJORD's toy defaults for everything not given.
    public init(
        iterations: Int = 10_000, batchSize: Int = 512, learningRate: Double = 1e-3, weightDecay: Double = 1e-5,
        warmup: Int = 0, gradientClip: Double? = nil, seed: UInt64 = 0, checkpointEvery: Int = 500,
        maxNFE: Int? = nil, onDivergence: DivergencePolicy = .stop, timeBudget: Double? = nil
    ) {
        self.iterations = iterations
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.warmup = warmup
        self.gradientClip = gradientClip
        self.seed = seed
        self.checkpointEvery = checkpointEvery
        self.maxNFE = maxNFE
        self.onDivergence = onDivergence
        self.timeBudget = timeBudget
    }

    /// Validates the ranges; the message names the flag.
    public func validate() throws {
        func fail(_ s: String) -> TrainingError { .invalidOptions(s) }
        guard iterations >= 1 else { throw fail("--iters must be ≥ 1, got \(iterations)") }
        guard batchSize >= 1 else { throw fail("--batch must be ≥ 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("--lr must be > 0, got \(learningRate)") }
        guard weightDecay >= 0 else { throw fail("--weight-decay must be ≥ 0, got \(weightDecay)") }
        guard warmup >= 0 else { throw fail("--warmup must be ≥ 0, got \(warmup)") }
        guard checkpointEvery >= 1 else { throw fail("--checkpoint-every must be ≥ 1, got \(checkpointEvery)") }
        if let c = gradientClip, !(c > 0) { throw fail("--clip must be > 0, got \(c)") }
        if let m = maxNFE, m < 1 { throw fail("--max-nfe must be ≥ 1, got \(m)") }
        if let b = timeBudget, !(b > 0 && b.isFinite) { throw fail("--time-budget must be positive, got \(b) s") }
    }
}

/// Reaction to a non-finite loss or gradient.
public enum DivergencePolicy: String, Codable, Sendable, CaseIterable {
    /// Stop with an error; the last good checkpoint stays.
    case stop
    /// Reload the last good checkpoint, halve the learning rate and continue.
    case restoreAndHalveLR = "restore-and-halve-lr"
}
