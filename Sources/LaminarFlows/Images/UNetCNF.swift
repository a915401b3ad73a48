import Foundation
import LaminarAutodiff
import LaminarNN
import LaminarODE

/// Settings of ``UNetCNF`` (stored in checkpoints).
public struct UNetCNFConfiguration: Codable, Sendable, Equatable {
    /// Image channels C.
    public var channels: Int
    /// Image height H in pixels.
    public var height: Int
    /// Image width W in pixels.
    public var width: Int
    /// Feature channels per resolution of the U-Net, e.g. `[32, 64, 64]`.
    public var hidden: [Int]
    /// GroupNorm groups.
    public var groups: Int
    /// Training trace estimator for maximum likelihood.
    public var trace: String
    /// Integration length T (fixed).
    public var timeLength: Double
    /// Solver method, tolerances, gradient mode and step limit of the block's solves.
    public var solve: SolveSettings

    /// Settings for `[C, H, W]` images (default MNIST's 1×28×28) and a U-Net of channels `hidden` per resolution.
    public init(
        channels: Int = 1, height: Int = 28, width: Int = 28, hidden: [Int] = [32, 64, 64], groups: Int = 8,
        trace: String = "hutchinson-rademacher", timeLength: Double = 1, solve: SolveSettings = SolveSettings()
    ) {
        (self.channels, self.height, self.width, self.hidden, self.groups) = (channels, height, width, hidden, groups)
        (self.trace, self.timeLength, self.solve) = (trace, timeLength, solve)
    }

    enum CodingKeys: String, CodingKey {
        case channels, height, width, hidden, groups, trace, timeLength
    }

    /// The solve settings are flat keys of the same object (`method`, `rtol`, `atol`, `gradient`, …).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.decode(Int.self, forKey: .channels)
        height = try c.decode(Int.self, forKey: .height)
        width = try c.decode(Int.self, forKey: .width)
        hidden = try c.decode([Int].self, forKey: .hidden)
        groups = try c.decode(Int.self, forKey: .groups)
        trace = try c.decode(String.self, forKey: .trace)
        timeLength = try c.decode(Double.self, forKey: .timeLength)
        solve = try SolveSettings(from: decoder)
    }

    /// Encodes the settings for a checkpoint, the solve settings as flat keys of the same object.
    public func encode(to encoder: any Encoder) throws {
        try solve.encode(flatWith: self, keyedBy: CodingKeys.self, to: encoder)
    }

    /// The data dimension C·H·W.
    public var dimension: Int { channels * height * width }

    /// Throws ``FlowError/invalidConfiguration(_:)`` naming the first setting out of range.
    public func validate() throws {
        guard channels > 0, height > 0, width > 0, imageSizeIsReasonable(channels, height, width) else {
            throw FlowError.invalidConfiguration("image shape \(channels)×\(height)×\(width) must be positive and at most 2²⁴ values")
        }
        guard (1...5).contains(hidden.count), hidden.allSatisfy({ $0 > 0 && $0 <= 1_024 }) else {
            throw FlowError.invalidConfiguration("U-Net --hidden gives 1–5 resolutions of 1…1024 channels, e.g. 32-64-64; got \(hidden)")
        }
        guard groups >= 1, hidden.allSatisfy({ $0 % groups == 0 }) else {
            throw FlowError.invalidConfiguration("U-Net channels \(hidden) must be multiples of the \(groups) GroupNorm groups")
        }
        if let odd = firstOddHalving(height: height, width: width, count: hidden.count - 1) {
            throw FlowError.invalidConfiguration(
                "U-Net: \(odd.height)×\(odd.width) cannot be halved for resolution \(odd.index + 2); give fewer --hidden entries")
        }
        guard TraceEstimator(name: trace) != nil else { throw FlowError.invalidConfiguration("unknown trace estimator \(trace)") }
        guard timeLength > 0, timeLength.isFinite else { throw FlowError.invalidConfiguration("T must be positive") }
        try validateSolveSettings(solve)
    }
}

/// A CNF for images whose vector field is a small U-Net (``UNetVectorField``): one block over
/// [0, T], data at t = 0, base N(0, I) at t = T. Trainable by maximum likelihood (Hutchinson
/// trace, adjoint) or — what it is meant for — by flow matching.
public final class UNetCNF<Scalar: TensorScalar>: Flow, VectorFieldFlow, ContinuousFlow {
    /// The model's settings (stored in checkpoints).
    public let configuration: UNetCNFConfiguration
    /// The single CNF block over [0, T].
    public let block: CNFBlock<Scalar>
    /// The configured estimator, used by ``trainingLoss(_:using:)`` and ``estimatedForward(_:using:)``.
    public let trainingEstimator: TraceEstimator

    /// Builds the model (its field starts at zero) from `rng`; throws when `configuration` is invalid.
    public init(_ configuration: UNetCNFConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        trainingEstimator = TraceEstimator(name: configuration.trace)!
        let field = try UNetVectorField<Scalar>(
            imageChannels: configuration.channels, height: configuration.height, width: configuration.width,
            channels: configuration.hidden, groups: configuration.groups, timeLength: configuration.timeLength, using: &rng)
        block = CNFBlock(
            field: field, timeLength: configuration.timeLength, trainTime: false,
            options: configuration.solve.odeOptions, gradient: configuration.solve.gradient)
    }

    /// The data dimension C·H·W.
    public var dimension: Int { configuration.dimension }
    /// The integration length T.
    public var endTime: Double? { block.endTime }
    /// The one block, for ``ContinuousFlow/useSolver(_:)``.
    public var continuousBlocks: [CNFBlock<Scalar>] { [block] }
    /// The block's parameters with their checkpoint names.
    public var namedParameters: [(String, Variable<Scalar>)] { block.namedParameters }
    /// True up to 64 values (tests); above, evaluations use the estimator.
    public var exactLogDeterminantIsAffordable: Bool { dimension <= 64 }

    /// The U-Net field and T, for flow-matching training.
    public func singleVectorField() throws -> (field: any CNFVectorField<Scalar>, endTime: Double) {
        (block.field, block.endTime)
    }

    private func transport(_ x: Variable<Scalar>, reverse: Bool, trace: DrawnTraceEstimator<Scalar>) throws -> FlowOutput<Scalar> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "U-Net CNF input")
        }
        let out = try block.run(x, reverse: reverse, trace: trace)
        return FlowOutput(value: out.z, logDeterminant: -out.deltaLogP.reshaped([-1]), nfe: out.stats.nfe)
    }

    /// Data → base over [0, T] with the exact trace (one VJP per pixel: tests only).
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(x, reverse: false, trace: .exact)
    }

    /// Base → data over [T, 0] with the exact trace.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(z, reverse: true, trace: .exact)
    }

    /// Data → base with the configured estimator (noise drawn from `rng` once for the solve).
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try transport(x, reverse: false, trace: trainingEstimator.draw(rows: x.shape[0], dimension: dimension, using: &rng))
    }

    /// Base → data of `z` ([n, C·H·W]) under the field alone, without a graph, and the NFE.
    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        try withoutGradient {
            let r = try block.sampleSolve(z)
            return (r.final[0].value, r.stats.nfe)
        }
    }

    /// Maximum likelihood with the training estimator (noise drawn once per solve).
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let trace: DrawnTraceEstimator<Scalar> = trainingEstimator.draw(rows: x.shape[0], dimension: dimension, using: &rng)
        let out = try block.run(x, reverse: false, trace: trace)
        let nll = -(standardNormalLogDensity(out.z) - out.deltaLogP.reshaped([-1])).mean()
        return TrainingLoss(nll: nll, nfeForward: out.stats.nfe, backward: [out.backward], kinetic: nil, jacobian: nil)
    }
}
