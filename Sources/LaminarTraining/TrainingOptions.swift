/// Optimisation settings of a training run, the same for every model; stored in checkpoints
/// (metadata key `training`, JSON) so that `--resume` continues the same run: the run's length,
/// Adam's weight decay and the ``LoopSettings`` (batch, learning rate, warm-up, clipping, seed,
/// checkpoint cadence, budgets, divergence policy), which read as members (`options.warmup`).
/// Coded as one flat JSON object.
@dynamicMemberLookup
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// Total number of iterations (counting those before a resume).
    public var iterations: Int
    /// Adam's L2 weight decay (FFJORD's toy runs use 1e-5).
    public var weightDecay: Double
    /// Batch, learning rate and its warm-up, clipping, seed, checkpoint cadence, budgets and
    /// divergence policy.
    public var loop: LoopSettings

    /// Options with FFJORD's toy defaults for everything not given.
    public init(
        iterations: Int = 10_000, batchSize: Int = 512, learningRate: Double = 1e-3, weightDecay: Double = 1e-5,
        warmup: Int = 0, gradientClip: Double? = nil, seed: UInt64 = 0, checkpointEvery: Int = 500,
        maxNFE: Int? = nil, onDivergence: DivergencePolicy = .stop, timeBudget: Double? = nil
    ) {
        self.init(
            iterations: iterations, weightDecay: weightDecay,
            loop: LoopSettings(
                batchSize: batchSize, learningRate: learningRate, warmup: warmup, gradientClip: gradientClip, seed: seed,
                checkpointEvery: checkpointEvery, maxNFE: maxNFE, onDivergence: onDivergence, timeBudget: timeBudget))
    }

    /// Options of `iterations` with Adam's L2 `weightDecay` and `loop`.
    public init(iterations: Int, weightDecay: Double, loop: LoopSettings) {
        (self.iterations, self.weightDecay, self.loop) = (iterations, weightDecay, loop)
    }

    /// A loop setting (`options.batchSize`, `options.gradientClip`, …).
    public subscript<Value>(dynamicMember setting: WritableKeyPath<LoopSettings, Value>) -> Value {
        get { loop[keyPath: setting] }
        set { loop[keyPath: setting] = newValue }
    }

    private enum CodingKeys: String, CodingKey { case iterations, weightDecay }

    /// Decodes the flat object; the keys added after the first release default when missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            iterations: try c.decode(Int.self, forKey: .iterations), weightDecay: try c.decode(Double.self, forKey: .weightDecay),
            loop: try LoopSettings(from: decoder))
    }

    /// Encodes one flat object: the iterations, the weight decay and the loop settings' keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(weightDecay, forKey: .weightDecay)
        try loop.encode(to: encoder)
    }

    /// Validates the ranges; the message names the flag.
    public func validate() throws {
        func fail(_ s: String) -> TrainingError { .invalidOptions(s) }
        guard iterations >= 1 else { throw fail("--iters must be ≥ 1, got \(iterations)") }
        guard loop.batchSize >= 1 else { throw fail("--batch must be ≥ 1, got \(loop.batchSize)") }
        guard loop.learningRate > 0, loop.learningRate.isFinite else { throw fail("--lr must be > 0, got \(loop.learningRate)") }
        guard weightDecay >= 0 else { throw fail("--weight-decay must be ≥ 0, got \(weightDecay)") }
        guard loop.warmup >= 0 else { throw fail("--warmup must be ≥ 0, got \(loop.warmup)") }
        guard loop.checkpointEvery >= 1 else { throw fail("--checkpoint-every must be ≥ 1, got \(loop.checkpointEvery)") }
        if let c = loop.gradientClip, !(c > 0) { throw fail("--clip must be > 0, got \(c)") }
        if let m = loop.maxNFE, m < 1 { throw fail("--max-nfe must be ≥ 1, got \(m)") }
        if let b = loop.timeBudget, !(b > 0 && b.isFinite) { throw fail("--time-budget must be positive, got \(b) s") }
    }
}

/// Reaction to a non-finite loss or gradient.
public enum DivergencePolicy: String, Codable, Sendable, CaseIterable {
    /// Stop with an error; the last good checkpoint stays.
    case stop
    /// Reload the last good checkpoint, halve the learning rate and continue.
    case restoreAndHalveLR = "restore-and-halve-lr"
}

/// The loop settings every model's training takes alike — batch, learning rate and its
/// warm-up, gradient clipping, seed, checkpoint cadence, NFE budget, divergence policy and time
/// budget — without the run's length, which each model counts in its own unit (iterations,
/// epochs). Model options embed one and turn it into ``TrainingOptions`` with
/// ``trainingOptions(iterations:weightDecay:)``.
///
/// Coded as flat keys, the names of ``TrainingOptions``'s; the keys added after the first
/// release (`warmup`, `gradientClip`, `maxNFE`, `onDivergence`) decode to their defaults when
/// missing.
public struct LoopSettings: Codable, Sendable, Equatable {
    /// Rows (points, images, series) in one global batch, over all ranks.
    public var batchSize: Int
    /// Adam's learning rate (before warm-up and divergence halvings).
    public var learningRate: Double
    /// Linear learning-rate warm-up length in iterations (0: none).
    public var warmup: Int
    /// Gradients are rescaled to this global norm when larger (nil: no clipping).
    public var gradientClip: Double?
    /// Seed of the run's generator (batches, noise).
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

    /// Settings with no warm-up, clipping, NFE or time budget unless given.
    public init(
        batchSize: Int, learningRate: Double = 1e-3, warmup: Int = 0, gradientClip: Double? = nil, seed: UInt64 = 0,
        checkpointEvery: Int = 100, maxNFE: Int? = nil, onDivergence: DivergencePolicy = .stop, timeBudget: Double? = nil
    ) {
        (self.batchSize, self.learningRate, self.warmup, self.gradientClip, self.seed) =
            (batchSize, learningRate, warmup, gradientClip, seed)
        (self.checkpointEvery, self.maxNFE, self.onDivergence, self.timeBudget) = (checkpointEvery, maxNFE, onDivergence, timeBudget)
    }

    /// The loop's options for a run of `iterations` with Adam's L2 `weightDecay`.
    public func trainingOptions(iterations: Int, weightDecay: Double = 0) -> TrainingOptions {
        TrainingOptions(iterations: iterations, weightDecay: weightDecay, loop: self)
    }

    private enum CodingKeys: String, CodingKey {
        case batchSize, learningRate, warmup, gradientClip, seed, checkpointEvery, maxNFE, onDivergence, timeBudget
    }

    /// Decodes the flat keys; the ones added later default when missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            batchSize: try c.decode(Int.self, forKey: .batchSize), learningRate: try c.decode(Double.self, forKey: .learningRate),
            warmup: try c.decodeIfPresent(Int.self, forKey: .warmup) ?? 0,
            gradientClip: try c.decodeIfPresent(Double.self, forKey: .gradientClip), seed: try c.decode(UInt64.self, forKey: .seed),
            checkpointEvery: try c.decode(Int.self, forKey: .checkpointEvery),
            maxNFE: try c.decodeIfPresent(Int.self, forKey: .maxNFE),
            onDivergence: try c.decodeIfPresent(DivergencePolicy.self, forKey: .onDivergence) ?? .stop,
            timeBudget: try c.decodeIfPresent(Double.self, forKey: .timeBudget))
    }
}

/// A model's training options: the run's length in the model's own unit (epochs, iterations)
/// and the ``LoopSettings``, whose settings read as members (`options.batchSize`). Conforming
/// types are coded as one flat JSON object: the length under ``lengthKey`` beside the loop
/// settings' keys.
@dynamicMemberLookup
public protocol ModelTrainingOptions: Codable, Sendable {
    /// The unit the run's length is counted in (`Double` epochs, `Int` iterations).
    associatedtype Length: Codable
    /// The JSON key of the run's length.
    static var lengthKey: String { get }
    /// The run's length.
    var runLength: Length { get }
    /// Batch, learning rate, seed, checkpoint cadence, budgets and safeguards.
    var loop: LoopSettings { get set }
    /// Options of `runLength` with `loop`.
    init(runLength: Length, loop: LoopSettings)
}

extension ModelTrainingOptions {
    /// A loop setting (`options.batchSize`, `options.gradientClip`, …).
    public subscript<Value>(dynamicMember setting: WritableKeyPath<LoopSettings, Value>) -> Value {
        get { loop[keyPath: setting] }
        set { loop[keyPath: setting] = newValue }
    }

    /// Decodes the run's length and the loop settings from one flat object.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: LengthKey.self)
        self.init(runLength: try c.decode(Length.self, forKey: LengthKey(Self.lengthKey)), loop: try LoopSettings(from: decoder))
    }

    /// Encodes the run's length and the loop settings as one flat object.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: LengthKey.self)
        try c.encode(runLength, forKey: LengthKey(Self.lengthKey))
        try loop.encode(to: encoder)
    }
}

/// The key of a model's run length.
private struct LengthKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ key: String) { stringValue = key }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
