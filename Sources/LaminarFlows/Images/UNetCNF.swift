import Foundation
import LaminarAutodiff
import LaminarNN
import LaminarODE

/// Settings of ``UNetCNF`` (stored in checkpoints).
public struct UNetCNFConfiguration: Codable, Sendable, Equatable {
    public var channels: Int
    public var height: Int
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

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(channels, forKey: .channels)
        try c.encode(height, forKey: .height)
        try c.encode(width, forKey: .width)
        try c.encode(hidden, forKey: .hidden)
        try c.encode(groups, forKey: .groups)
        try c.encode(trace, forKey: .trace)
        try c.encode(timeLength, forKey: .timeLength)
        try solve.encode(to: encoder)
    }

    public var dimension: Int { channels * height * width }

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
        var (h, w) = (height, width)
        for level in 1..<hidden.count {
            guard h % 2 == 0, w % 2 == 0 else {
                throw FlowError.invalidConfiguration("U-Net: \(h)×\(w) cannot be halved for resolution \(level + 1); give fewer --hidden entries")
            }
            (h, w) = (h / 2, w / 2)
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
    public let configuration: UNetCNFConfiguration
    public let block: CNFBlock<Scalar>
    public let trainingEstimator: TraceEstimator

    public init(_ configuration: UNetCNFConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        trainingEstimator = TraceEstimator(name: configuration.trace)!
        let field = try UNetVectorField<Scalar>(
            imageChannels: configuration.channels, height: configuration.height, width: configuration.width,
            channels: configuration.hidden, groups: configuration.groups, timeLength: configuration.timeLength, using: &rng)
        block = CNFBlock(
            net: field, estimator: .exact, timeLength: configuration.timeLength, trainTime: false,
            options: configuration.solve.odeOptions, gradient: configuration.solve.gradient)
    }

    public var dimension: Int { configuration.dimension }
    public var endTime: Double? { block.endTime }
    public var continuousBlocks: [CNFBlock<Scalar>] { [block] }
    public var namedParameters: [(String, Variable<Scalar>)] { block.namedParameters }
    public var exactLogDeterminantIsAffordable: Bool { dimension <= 64 }

    public func singleVectorField() throws -> (field: any CNFVectorField<Scalar>, endTime: Double) {
        (block.dynamics.net, block.endTime)
    }

    private func transport(_ x: Variable<Scalar>, reverse: Bool, estimator: TraceEstimator, noise: Tensor<Scalar>?) throws -> FlowOutput<Scalar> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "U-Net CNF input")
        }
        block.dynamics.estimator = estimator
        let out = try block.run(x, reverse: reverse, noise: noise)
        return FlowOutput(value: out.z, logDeterminant: -out.deltaLogP.reshaped([-1]), nfe: out.stats.nfe)
    }

    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(x, reverse: false, estimator: .exact, noise: nil)
    }

    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(z, reverse: true, estimator: .exact, noise: nil)
    }

    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try transport(x, reverse: false, estimator: .hutchinson(.rademacher),
                      noise: HutchinsonNoise.rademacher.draw([x.shape[0], dimension], using: &rng))
    }

    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        try withoutGradient {
            let f = ClosureDynamics<Scalar>(parameters: []) { t, y in [self.block.dynamics.net(t, y[0])] }
            let r = try odeint(f, [Variable(z)], times: [block.endTime, 0], options: block.options)
            return (r.final[0].value, r.stats.nfe)
        }
    }

    /// Maximum likelihood with the training estimator (noise drawn once per solve).
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        var noise: Tensor<Scalar>? = nil
        if case .hutchinson(let kind) = trainingEstimator { noise = kind.draw([x.shape[0], dimension], using: &rng) }
        block.dynamics.estimator = trainingEstimator
        let out = try block.run(x, reverse: false, noise: noise)
        let nll = -(standardNormalLogDensity(out.z) - out.deltaLogP.reshaped([-1])).mean()
        return TrainingLoss(nll: nll, nfeForward: out.stats.nfe, backward: [out.backward], kinetic: nil, jacobian: nil)
    }
}
