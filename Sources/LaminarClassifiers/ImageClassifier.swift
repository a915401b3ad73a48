import LaminarAutodiff
import LaminarNN
import LaminarODE

/// The three architectures of the Neural ODE paper's Table 1.
public enum ClassifierArchitecture: String, Codable, Sendable, CaseIterable {
    /// The ODE block solved adaptively (dopri5), gradients by the continuous adjoint.
    case odenet
    /// The same block solved with a fixed-step Runge–Kutta method and back-propagated through.
    case rknet
    /// Six residual blocks of the same shape.
    case resnet
}

/// Settings of an ``ImageClassifier``; stored in checkpoints as JSON.
public struct ClassifierConfiguration: Codable, Sendable, Equatable {
    /// ODE-Net, RK-Net or ResNet.
    public var architecture: ClassifierArchitecture
    /// Channels of the input images (MNIST: 1).
    public var inputChannels: Int
    /// Number of classes (≥ 2; MNIST: 10).
    public var classes: Int
    /// Feature channels of the stem, the feature block and the head (64 in the paper).
    public var channels: Int
    /// GroupNorm groups (min(32, channels) by default; must divide `channels`).
    public var groups: Int
    /// ODE-Net: solver, tolerances and gradient method (dopri5 at 1e-3, adjoint by default).
    public var solve: SolveSettings
    /// RK-Net: fixed steps of rk4 on [0, 1].
    public var rkSteps: Int
    /// Nonlinearity inside the ODE block (the paper: ReLU; a smooth one such as softplus makes
    /// the dynamics smooth, and then adjoint and discrete gradients agree to solver accuracy).
    public var activation: Activation

    /// Settings of `architecture` on images of `inputChannels` channels; the defaults are the paper's (64 channels, dopri5 at 1e-3, rk4 with 4 steps, ReLU).
    public init(
        architecture: ClassifierArchitecture, inputChannels: Int = 1, classes: Int = 10, channels: Int = 64,
        groups: Int? = nil, solve: SolveSettings = SolveSettings(rtol: 1e-3, atol: 1e-3), rkSteps: Int = 4,
        activation: Activation = .relu
    ) {
        self.architecture = architecture
        self.inputChannels = inputChannels
        self.classes = classes
        self.channels = channels
        self.groups = groups ?? Swift.min(32, channels)
        self.solve = solve
        self.rkSteps = rkSteps
        self.activation = activation
    }

    /// Throws ``ClassifierError/invalidConfiguration(_:)`` naming the first setting out of range.
    public func validate() throws {
        func fail(_ s: String) -> ClassifierError { .invalidConfiguration(s) }
        guard inputChannels >= 1, classes >= 2 else { throw fail("need ≥ 1 input channel and ≥ 2 classes") }
        guard channels >= 1, groups >= 1, channels % groups == 0 else {
            throw fail("\(channels) channels do not split into \(groups) GroupNorm groups")
        }
        do { try solve.validate() } catch { throw fail("\(error)") }
        guard rkSteps >= 1 else { throw fail("RK-Net steps must be ≥ 1, got \(rkSteps)") }
    }

    enum CodingKeys: String, CodingKey { case architecture, inputChannels, classes, channels, groups, rkSteps, activation }

    /// Decodes the JSON of a checkpoint; the solve settings are flat keys of the same object
    /// (checkpoints written before the method was stored solve with dopri5).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            architecture: try c.decode(ClassifierArchitecture.self, forKey: .architecture),
            inputChannels: try c.decode(Int.self, forKey: .inputChannels), classes: try c.decode(Int.self, forKey: .classes),
            channels: try c.decode(Int.self, forKey: .channels), groups: try c.decode(Int.self, forKey: .groups),
            solve: try SolveSettings(from: decoder), rkSteps: try c.decode(Int.self, forKey: .rkSteps),
            activation: try c.decodeIfPresent(Activation.self, forKey: .activation) ?? .relu)
    }

    /// Encodes the settings for a checkpoint, the solve settings as flat keys of the same object.
    public func encode(to encoder: any Encoder) throws {
        try solve.encode(flatWith: self, keyedBy: CodingKeys.self, to: encoder)
    }
}

/// Errors of classifier construction and use.
public enum ClassifierError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case shapeMismatch(expected: String, found: [Int])
    case diverged(iteration: Int)
    case interrupted(iteration: Int)
    case resumeMismatch(String)

    /// What went wrong, in one line, with the usual remedy.
    public var description: String {
        switch self {
        case .invalidConfiguration(let s): return "invalid classifier configuration: \(s)"
        case .shapeMismatch(let e, let f): return "classifier input: expected \(e), found shape \(f)"
        case .diverged(let i):
            return "training diverged at iteration \(i): the loss or its gradient is not finite; the last checkpoint is kept, try a smaller --lr"
        case .interrupted(let i): return "interrupted at iteration \(i); checkpoint written, continue with --resume"
        case .resumeMismatch(let s): return "cannot resume: \(s)"
        }
    }
}

/// The dynamics of the ODE block, `f(t, h) = GN(conv₂(t, σ(GN(conv₁(t, σ(GN(h)))))))` with
/// time-concatenating 3×3 convolutions and σ = ReLU (the paper's `ODEfunc`) by default.
public final class ConvODEFunction<Scalar: TensorScalar>: Dynamics {
    let activation: Activation
    let norm1, norm2, norm3: GroupNorm<Scalar>
    let conv1, conv2: ConcatConv2d<Scalar>
    /// Function evaluations since the last reset.
    public private(set) var evaluations = 0

    init(channels: Int, groups: Int, activation: Activation, using rng: inout RandomGenerator) {
        self.activation = activation
        norm1 = GroupNorm(groups: groups, channels: channels)
        conv1 = ConcatConv2d(inputChannels: channels, outputChannels: channels, using: &rng)
        norm2 = GroupNorm(groups: groups, channels: channels)
        conv2 = ConcatConv2d(inputChannels: channels, outputChannels: channels, using: &rng)
        norm3 = GroupNorm(groups: groups, channels: channels)
    }

    /// `norm1`, `conv1`, `norm2`, `conv2` and `norm3` parameters, in order.
    public var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("norm1", norm1.namedParameters) + prefixed("conv1", conv1.namedParameters)
            + prefixed("norm2", norm2.namedParameters) + prefixed("conv2", conv2.namedParameters)
            + prefixed("norm3", norm3.namedParameters)
    }

    /// The parameters θ of the dynamics, in ``namedParameters`` order.
    public var parameters: [Variable<Scalar>] { namedParameters.map(\.1) }

    /// Sets ``evaluations`` to zero.
    public func resetEvaluations() { evaluations = 0 }

    /// `[f(t, h)]` for the feature maps `y[0]` ([n, c, H, W]) at time `t` (rank 0).
    public func callAsFunction(_ t: Variable<Scalar>, _ y: [Variable<Scalar>]) -> [Variable<Scalar>] {
        evaluations += 1
        var h = norm1(y[0], then: activation)
        h = norm2(conv1(t: t, x: h), then: activation)
        return [norm3(conv2(t: t, x: h))]
    }
}

/// A residual block of the same shape: `h + conv₂(ReLU(GN(conv₁(ReLU(GN(h))))))`.
final class ResidualBlock<Scalar: TensorScalar> {
    let norm1, norm2: GroupNorm<Scalar>
    let conv1, conv2: Conv2d<Scalar>

    init(channels: Int, groups: Int, using rng: inout RandomGenerator) {
        norm1 = GroupNorm(groups: groups, channels: channels)
        conv1 = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, bias: false, using: &rng)
        norm2 = GroupNorm(groups: groups, channels: channels)
        conv2 = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, bias: false, using: &rng)
    }

    var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("norm1", norm1.namedParameters) + prefixed("conv1", conv1.namedParameters)
            + prefixed("norm2", norm2.namedParameters) + prefixed("conv2", conv2.namedParameters)
    }

    func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        x + conv2(norm2(conv1(norm1(x, then: .relu)), then: .relu))
    }
}

/// Image classifier of the Neural ODE paper (§3, Table 1): a downsampling stem (3×3 conv,
/// GroupNorm, ReLU, two 4×4 stride-2 convs), a feature block — an ODE block on [0, 1] (ODE-Net,
/// RK-Net) or six residual blocks (ResNet) — and a head (GroupNorm, ReLU, global average pool,
/// linear). Images are `[n, channels, height, width]`.
public final class ImageClassifier<Scalar: TensorScalar> {
    /// The model's settings (stored in checkpoints).
    public let configuration: ClassifierConfiguration
    let stem: Sequential<Scalar>
    /// The dynamics of the ODE block (ODE-Net, RK-Net); nil for ResNet.
    public let odeFunction: ConvODEFunction<Scalar>?
    let residualBlocks: [ResidualBlock<Scalar>]
    let headNorm: GroupNorm<Scalar>
    let head: Linear<Scalar>

    /// Builds the classifier with fresh weights from `rng`; throws when `configuration` is invalid.
    public init(_ configuration: ClassifierConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        let c = configuration.channels, g = configuration.groups
        stem = Sequential([
            .conv(Conv2d(inputChannels: configuration.inputChannels, outputChannels: c, kernelSize: 3, using: &rng)),
            .groupNorm(GroupNorm(groups: g, channels: c)), .activation(.relu),
            .conv(Conv2d(inputChannels: c, outputChannels: c, kernelSize: 4, stride: 2, padding: 1, using: &rng)),
            .groupNorm(GroupNorm(groups: g, channels: c)), .activation(.relu),
            .conv(Conv2d(inputChannels: c, outputChannels: c, kernelSize: 4, stride: 2, padding: 1, using: &rng)),
        ])
        if configuration.architecture == .resnet {
            odeFunction = nil
            residualBlocks = (0..<6).map { _ in ResidualBlock(channels: c, groups: g, using: &rng) }
        } else {
            odeFunction = ConvODEFunction(channels: c, groups: g, activation: configuration.activation, using: &rng)
            residualBlocks = []
        }
        headNorm = GroupNorm(groups: g, channels: c)
        head = Linear(inputSize: c, outputSize: configuration.classes, using: &rng)
    }

    /// Stem, feature block and head parameters with stable checkpoint names.
    public var namedParameters: [(String, Variable<Scalar>)] {
        var p = prefixed("stem", stem.namedParameters)
        if let f = odeFunction { p += prefixed("odefunc", f.namedParameters) }
        for (i, block) in residualBlocks.enumerated() { p += prefixed("blocks.\(i)", block.namedParameters) }
        return p + prefixed("head_norm", headNorm.namedParameters) + prefixed("head", head.namedParameters)
    }

    /// Every trainable parameter, in ``namedParameters`` order.
    public var parameters: [Variable<Scalar>] { namedParameters.map(\.1) }

    /// Solve options of the feature block (ODE-Net: the configured solve settings;
    /// RK-Net: rk4 with `rkSteps` steps).
    public var solveOptions: ODEOptions {
        configuration.architecture == .rknet
            ? ODEOptions(method: .rk4, stepSize: 1 / Double(configuration.rkSteps))
            : configuration.solve.odeOptions
    }

    /// What one forward pass produced.
    public struct Output {
        /// Unnormalised class scores, [n, classes].
        public var logits: Variable<Scalar>
        /// Forward function evaluations of the ODE block (0 for ResNet).
        public var nfe: Int
        /// Backward statistics of the solve (adjoint NFE), filled in by the gradient.
        public var backward: BackwardStats?
    }

    /// The feature block alone, on stem features `h` ([n, c, H, W]).
    public func features(_ h: Variable<Scalar>, options: ODEOptions? = nil) throws -> (Variable<Scalar>, nfe: Int) {
        let (out, nfe, _) = try featureBlock(h, options: options)
        return (out, nfe)
    }

    func featureBlock(_ h: Variable<Scalar>, options: ODEOptions?) throws -> (Variable<Scalar>, Int, BackwardStats?) {
        guard let f = odeFunction else {
            return (residualBlocks.reduce(h) { $1($0) }, 0, nil)
        }
        let gradient: GradientMethod = configuration.architecture == .rknet
            ? .backprop : configuration.solve.gradient
        let result = try odeint(f, [h], times: [0, 1], options: options ?? solveOptions, gradient: gradient)
        return (result.final[0], result.stats.nfe, result.backwardStats)
    }

    /// Class logits ([n, classes]), forward NFE and backward statistics.
    public func forward(_ x: Variable<Scalar>, options: ODEOptions? = nil) throws -> Output {
        guard x.rank == 4, x.shape[1] == configuration.inputChannels, x.shape[2] >= 8, x.shape[3] >= 8 else {
            throw ClassifierError.shapeMismatch(
                expected: "[n, \(configuration.inputChannels), H, W] with H, W ≥ 8", found: x.shape)
        }
        let (h, nfe, backward) = try featureBlock(stem(x), options: options)
        let pooled = headNorm(h, then: .relu).mean(axes: [2, 3])
        return Output(logits: head(pooled), nfe: nfe, backward: backward)
    }

    /// Class logits ([n, classes]) and the forward NFE of the feature block.
    public func logits(_ x: Variable<Scalar>, options: ODEOptions? = nil) throws -> (Variable<Scalar>, nfe: Int) {
        let out = try forward(x, options: options)
        return (out.logits, out.nfe)
    }
}
