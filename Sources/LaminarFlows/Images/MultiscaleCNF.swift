import Foundation
import LaminarAutodiff
import LaminarNN
import LaminarODE

/// Settings of ``MultiscaleCNF`` (stored in checkpoints).
public struct MultiscaleCNFConfiguration: Codable, Sendable, Equatable {
    /// Image channels C.
    public var channels: Int
    /// Image height H in pixels.
    public var height: Int
    /// Image width W in pixels.
    public var width: Int
    /// Number of scales; every scale but the last ends with a squeeze and factors out half of
    /// the channels.
    public var scales: Int
    /// CNF blocks before and after each squeeze.
    public var blocksPerScale: Int
    /// Hidden channels of each block's `ConcatConv2d` stack.
    public var hidden: [Int]
    /// Nonlinearity between the convolutions (softplus by default: smooth, so the dynamics are).
    public var activation: Activation
    /// Training trace estimator (`exact`, `hutchinson-gaussian`, `hutchinson-rademacher`); also used by ``MultiscaleCNF/estimatedForward(_:using:)``.
    public var trace: String
    /// Integration length T of each block.
    public var timeLength: Double
    /// Whether T is learned.
    public var trainTime: Bool
    /// Solver, tolerances and gradient method of every block.
    public var solve: SolveSettings
    /// RNODE (Finlay et al. 2020): weight of the kinetic energy ∫‖f‖² dt (batch mean, summed
    /// over blocks; the paper uses 0.01 on MNIST).
    public var kineticWeight: Double
    /// RNODE: weight of the Jacobian Frobenius norm ∫‖∂f/∂z‖²_F dt (Hutchinson estimate).
    public var jacobianWeight: Double

    /// Settings for `[C, H, W]` images (default MNIST's 1×28×28); the defaults are FFJORD's MNIST model scaled to a CPU.
    public init(
        channels: Int = 1, height: Int = 28, width: Int = 28, scales: Int = 2, blocksPerScale: Int = 1,
        hidden: [Int] = [32, 32], activation: Activation = .softplus, trace: String = "hutchinson-rademacher",
        timeLength: Double = 1, trainTime: Bool = true, solve: SolveSettings = SolveSettings(),
        kineticWeight: Double = 0, jacobianWeight: Double = 0
    ) {
        self.channels = channels
        self.height = height
        self.width = width
        self.scales = scales
        self.blocksPerScale = blocksPerScale
        self.hidden = hidden
        self.activation = activation
        self.trace = trace
        self.timeLength = timeLength
        self.trainTime = trainTime
        self.solve = solve
        self.kineticWeight = kineticWeight
        self.jacobianWeight = jacobianWeight
    }

    /// The data dimension C·H·W.
    public var dimension: Int { channels * height * width }

    enum CodingKeys: String, CodingKey {
        case channels, height, width, scales, blocksPerScale, hidden, activation, trace, timeLength, trainTime
        case kineticWeight, jacobianWeight
    }

    /// Decodes the JSON of a checkpoint; the solve settings are flat keys of the same object.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            channels: try c.decode(Int.self, forKey: .channels), height: try c.decode(Int.self, forKey: .height),
            width: try c.decode(Int.self, forKey: .width), scales: try c.decode(Int.self, forKey: .scales),
            blocksPerScale: try c.decode(Int.self, forKey: .blocksPerScale), hidden: try c.decode([Int].self, forKey: .hidden),
            activation: try c.decode(Activation.self, forKey: .activation), trace: try c.decode(String.self, forKey: .trace),
            timeLength: try c.decode(Double.self, forKey: .timeLength), trainTime: try c.decode(Bool.self, forKey: .trainTime),
            solve: try SolveSettings(from: decoder), kineticWeight: try c.decode(Double.self, forKey: .kineticWeight),
            jacobianWeight: try c.decode(Double.self, forKey: .jacobianWeight))
    }

    /// Encodes the settings for a checkpoint, the solve settings as flat keys of the same object.
    public func encode(to encoder: any Encoder) throws {
        try solve.encode(flatWith: self, keyedBy: CodingKeys.self, to: encoder)
    }

    /// Throws ``FlowError/invalidConfiguration(_:)`` naming the first setting out of range.
    public func validate() throws {
        guard channels > 0, height > 0, width > 0 else { throw FlowError.invalidConfiguration("image shape must be positive") }
        guard imageSizeIsReasonable(channels, height, width) else {
            throw FlowError.invalidConfiguration("image shape \(channels)×\(height)×\(width) is larger than 2²⁴ values")
        }
        guard scales >= 1, blocksPerScale >= 1 else { throw FlowError.invalidConfiguration("scales and blocks must be ≥ 1") }
        guard !hidden.isEmpty, hidden.allSatisfy({ $0 > 0 }) else {
            throw FlowError.invalidConfiguration("hidden channels must be positive")
        }
        if let odd = firstOddHalving(height: height, width: width, count: scales - 1) {
            throw FlowError.invalidConfiguration(
                "scale \(odd.index + 1): \(odd.height)×\(odd.width) cannot be squeezed (odd side); use fewer scales")
        }
        guard TraceEstimator(name: trace) != nil else { throw FlowError.invalidConfiguration("unknown trace estimator \(trace)") }
        try validateSolveSettings(solve)
        guard timeLength > 0, timeLength.isFinite else { throw FlowError.invalidConfiguration("T must be positive, got \(timeLength)") }
        guard kineticWeight >= 0, jacobianWeight >= 0 else {
            throw FlowError.invalidConfiguration("regularization weights must be ≥ 0")
        }
        if jacobianWeight > 0, case .exact? = TraceEstimator(name: trace) {
            throw FlowError.invalidConfiguration("the Jacobian regularizer needs a Hutchinson trace estimator")
        }
    }
}

/// Multiscale FFJORD for images (Grathwohl et al. 2019, after Real NVP's multiscale
/// architecture): at each scale CNF blocks with convolutional dynamics, a squeeze (2×2 blocks
/// to channels), more CNF blocks, then half of the channels are factored out to the base
/// distribution; the last scale has CNF blocks only. Rows are flattened images `[n, C·H·W]`;
/// the base vector is the factored parts in order followed by the last scale's output.
public final class MultiscaleCNF<Scalar: TensorScalar>: Flow {
    /// The model's settings (stored in checkpoints).
    public let configuration: MultiscaleCNFConfiguration
    /// `stages[s]`: the blocks before the squeeze and, for all but the last scale, after it.
    let stages: [(before: [CNFBlock<Scalar>], after: [CNFBlock<Scalar>])]
    /// The configured estimator, used by ``trainingLoss(_:using:)`` and ``estimatedForward(_:using:)``.
    public let trainingEstimator: TraceEstimator

    /// Builds the model with fresh weights from `rng`; throws when `configuration` is invalid.
    public init(_ configuration: MultiscaleCNFConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        guard let estimator = TraceEstimator(name: configuration.trace) else {
            throw FlowError.invalidConfiguration("unknown trace estimator \(configuration.trace)")
        }
        trainingEstimator = estimator
        let options = configuration.solve.odeOptions
        let gradient = configuration.solve.gradient
        func blocks(_ c: Int, _ h: Int, _ w: Int) -> [CNFBlock<Scalar>] {
            (0..<configuration.blocksPerScale).map { _ in
                CNFBlock(
                    field: ConvVectorField<Scalar>(channels: c, height: h, width: w, hidden: configuration.hidden,
                                                   activation: configuration.activation, using: &rng),
                    timeLength: configuration.timeLength, trainTime: configuration.trainTime,
                    options: options, gradient: gradient)
            }
        }
        var (c, h, w) = (configuration.channels, configuration.height, configuration.width)
        var stages: [(before: [CNFBlock<Scalar>], after: [CNFBlock<Scalar>])] = []
        for s in 0..<configuration.scales {
            let before = blocks(c, h, w)
            guard s < configuration.scales - 1 else {
                stages.append((before, []))
                break
            }
            (c, h, w) = (4 * c, h / 2, w / 2)
            stages.append((before, blocks(c, h, w)))
            c -= c / 2
        }
        self.stages = stages
    }

    /// The data dimension C·H·W.
    public var dimension: Int { configuration.dimension }
    /// The first block's integration length T.
    public var endTime: Double? { stages.first?.before.first?.endTime }

    var allBlocks: [CNFBlock<Scalar>] { stages.flatMap { $0.before + $0.after } }

    /// `transforms.<k>.…` for every block in transport order.
    public var namedParameters: [(String, Variable<Scalar>)] {
        allBlocks.enumerated().flatMap { i, b in b.namedParameters.map { ("transforms.\(i).\($0.0)", $0.1) } }
    }

    /// Shapes `(C, H, W)` entering each scale.
    var scaleShapes: [(Int, Int, Int)] {
        MultiscaleReshape.scaleShapes(
            channels: configuration.channels, height: configuration.height, width: configuration.width, scales: configuration.scales)
    }

    /// Data → base with the exact trace: one vector-Jacobian product per pixel at every
    /// function evaluation — correct, but only affordable for tiny images (tests).
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(x, traces: nil).output
    }

    /// True up to 64 values (tests); above, evaluations use the estimator.
    public var exactLogDeterminantIsAffordable: Bool { dimension <= 64 }

    /// Data → base with the configured estimator (``trainingEstimator``; noise drawn from `rng`
    /// once per block's solve) — the exact trace when that is what the model is configured with.
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try transport(x, traces: drawTraces(rows: x.shape[0], using: &rng)).output
    }

    /// The configured estimator for each block's solve, in transport order.
    private func drawTraces(rows n: Int, using rng: inout RandomGenerator) -> [DrawnTraceEstimator<Scalar>] {
        var traces: [DrawnTraceEstimator<Scalar>] = []
        for (s, stage) in stages.enumerated() {
            let (c, h, w) = scaleShapes[s]
            for _ in stage.before + stage.after {
                traces.append(trainingEstimator.draw(rows: n, dimension: c * h * w, using: &rng))
            }
        }
        return traces
    }

    /// Data → base with `traces[i]` for the i-th block in transport order (nil: the exact trace
    /// throughout); with `kinetic`/`jacobian` the RNODE integrals, summed over blocks and
    /// averaged over the batch.
    func transport(
        _ x: Variable<Scalar>, traces: [DrawnTraceEstimator<Scalar>]?, kinetic: Bool = false, jacobian: Bool = false
    ) throws -> (output: FlowOutput<Scalar>, backward: [BackwardCounter], kinetic: Variable<Scalar>?, jacobian: Variable<Scalar>?) {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "multiscale CNF input")
        }
        let n = x.shape[0]
        var h = x
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        var factored: [Variable<Scalar>] = []
        var backward: [BackwardCounter] = []
        var kineticTotal: Variable<Scalar>? = nil
        var jacobianTotal: Variable<Scalar>? = nil
        var index = 0
        func run(_ blocks: [CNFBlock<Scalar>], _ input: Variable<Scalar>) throws -> Variable<Scalar> {
            var z = input
            for block in blocks {
                let out = try block.run(z, reverse: false, trace: traces?[index] ?? .exact, kinetic: kinetic, jacobian: jacobian)
                backward.append(out.backward)
                if let k = out.kinetic { kineticTotal = kineticTotal.map { $0 + k.mean() } ?? k.mean() }
                if let j = out.jacobian { jacobianTotal = jacobianTotal.map { $0 + j.mean() } ?? j.mean() }
                index += 1
                z = out.z
                let ld = -out.deltaLogP.reshaped([-1])
                logDet = logDet.map { $0 + ld } ?? ld
                nfe += out.stats.nfe
            }
            return z
        }
        for (s, stage) in stages.enumerated() {
            let (c, height, width) = scaleShapes[s]
            h = try run(stage.before, h)
            guard s < stages.count - 1 else { break }
            let squeezed = MultiscaleReshape.squeeze(h.reshaped([n, c, height, width]))
            let c4 = 4 * c
            h = try run(stage.after, squeezed.reshaped([n, c4 * height * width / 4]))
            let parts = MultiscaleReshape.factorOut(h.reshaped([n, c4, height / 2, width / 2]), kept: c4 - c4 / 2)
            factored.append(parts.factored.reshaped([n, -1]))
            h = parts.continuing.reshaped([n, -1])
        }
        return (FlowOutput(value: Variable.concatenate(factored + [h], axis: 1), logDeterminant: logDet!, nfe: nfe), backward,
                kineticTotal, jacobianTotal)
    }

    /// Base → data with the exact trace (the base vector split back into the scales).
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try inverseTransport(z, logDeterminant: true)
    }

    /// Base → data solving the dynamics alone (no divergence): what sampling needs, at a
    /// fraction of the cost of the exact trace.
    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        try withoutGradient {
            let out = try inverseTransport(Variable(z), logDeterminant: false)
            return (out.value.value, out.nfe)
        }
    }

    /// Base → data; without `logDeterminant` the returned log-determinant is zero.
    func inverseTransport(_ z: Variable<Scalar>, logDeterminant: Bool) throws -> FlowOutput<Scalar> {
        guard z.rank == 2, z.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: z.shape, what: "multiscale CNF base sample")
        }
        let n = z.shape[0]
        let shapes = scaleShapes
        let base = MultiscaleReshape.splitBase(z, shapes: shapes)
        var h = base.last.reshaped([n, -1])
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        func run(_ blocks: [CNFBlock<Scalar>], _ input: Variable<Scalar>) throws -> Variable<Scalar> {
            var x = input
            for block in blocks.reversed() {
                guard logDeterminant else {
                    let r = try block.sampleSolve(x.value)
                    x = r.final[0]
                    nfe += r.stats.nfe
                    continue
                }
                let out = try block.run(x, reverse: true)
                x = out.z
                let ld = -out.deltaLogP.reshaped([-1])
                logDet = logDet.map { $0 + ld } ?? ld
                nfe += out.stats.nfe
            }
            return x
        }
        for s in stride(from: stages.count - 1, through: 0, by: -1) {
            let (c, height, width) = shapes[s]
            if s < stages.count - 1 {
                let c4 = 4 * c
                let continuing = h.reshaped([n, c4 - c4 / 2, height / 2, width / 2])
                h = try run(stages[s].after, MultiscaleReshape.merge(continuing, base.factored[s]).reshaped([n, -1]))
                h = MultiscaleReshape.unsqueeze(h.reshaped([n, c4, height / 2, width / 2])).reshaped([n, -1])
            }
            h = try run(stages[s].before, h)
        }
        return FlowOutput(value: h, logDeterminant: logDet ?? Variable(Tensor(zeros: [n])), nfe: nfe)
    }

    /// Negative log-likelihood with the training estimator plus the RNODE terms when their
    /// weights are positive.
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let (out, backward, kinetic, jacobian) = try transport(
            x, traces: drawTraces(rows: x.shape[0], using: &rng), kinetic: configuration.kineticWeight > 0,
            jacobian: configuration.jacobianWeight > 0)
        return TrainingLoss(
            nll: -(standardNormalLogDensity(out.value) + out.logDeterminant).mean(), nfeForward: out.nfe, backward: backward,
            kinetic: kinetic.map { ($0, configuration.kineticWeight) }, jacobian: jacobian.map { ($0, configuration.jacobianWeight) })
    }
}
