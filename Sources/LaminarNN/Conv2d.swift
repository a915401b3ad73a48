/// 2-D convolution layer, weight [out, in, k, k] with PyTorch's default initialisation
/// (`U(−1/√fan_in, 1/√fan_in)`, fan_in = in·k²).
public final class Conv2d<Scalar: TensorScalar>: Layer {
    /// Kernel, [out, in, k, k].
    public let weight: Variable<Scalar>
    /// Per-output-channel bias, [out] (nil when built with `bias: false`).
    public let bias: Variable<Scalar>?
    /// Step between output pixels on both axes.
    public let stride: Int
    /// Zeros added on every side of the input on both axes.
    public let padding: Int

    /// A layer mapping `inputChannels` to `outputChannels` with a `kernelSize × kernelSize` kernel;
    /// output extent `⌊(H + 2·padding − k) / stride⌋ + 1` per axis.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, using rng: inout RandomGenerator
    ) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0, "Conv2d: sizes must be positive")
        let bound = Scalar(1 / Double(inputChannels * kernelSize * kernelSize).squareRoot())
        weight = Variable(Tensor.randomUniform([outputChannels, inputChannels, kernelSize, kernelSize],
                                               low: -bound, high: bound, using: &rng), requiresGradient: true)
        self.bias = bias ? Variable(Tensor.randomUniform([outputChannels], low: -bound, high: bound, using: &rng),
                                    requiresGradient: true) : nil
        self.stride = stride
        self.padding = padding
    }

    /// `weight` and, with a bias, `bias` (PyTorch's names).
    public var namedParameters: [(String, Variable<Scalar>)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// x [N, in, H, W] → [N, out, H', W'].
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        precondition(x.rank == 4 && x.shape[1] == weight.shape[1],
                     "Conv2d: input \(x.shape) needs \(weight.shape[1]) channels ([N, C, H, W])")
        return conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// FFJORD's `ConcatConv2d`: time appended to the input as a constant channel.
public final class ConcatConv2d<Scalar: TensorScalar>: TimeConditionedLayer {
    /// The convolution over `inputChannels + 1` channels, the first being time.
    public let layer: Conv2d<Scalar>

    /// Defaults: 3 × 3 kernel, stride 1, padding 1, which keep the spatial extent.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int = 3, stride: Int = 1, padding: Int = 1,
                using rng: inout RandomGenerator) {
        layer = Conv2d(inputChannels: inputChannels + 1, outputChannels: outputChannels, kernelSize: kernelSize,
                       stride: stride, padding: padding, using: &rng)
    }

    /// `_layer.weight`, `_layer.bias` (FFJORD's names).
    public var namedParameters: [(String, Variable<Scalar>)] { prefixed("_layer", layer.namedParameters) }

    /// `x` [N, C, H, W], `t` rank 0 → [N, out, H', W']; `t` is broadcast to a channel of the input.
    public func callAsFunction(t: Variable<Scalar>, x: Variable<Scalar>) -> Variable<Scalar> {
        let channel = t.reshaped([1, 1, 1, 1]).broadcast(to: [x.shape[0], 1, x.shape[2], x.shape[3]])
        return layer(Variable.concatenate([channel, x], axis: 1))
    }
}

/// Group normalisation (Wu & He 2018): per sample, channels split into groups normalised to
/// zero mean and unit variance, then an affine map per channel.
///
/// Forward and first-order backward passes are fused kernels; second-order gradients are exact
/// (see ``groupNorm(_:weight:bias:groups:epsilon:)``).
public final class GroupNorm<Scalar: TensorScalar>: Layer {
    /// Number of groups `G`; the channels split into `G` groups of `C / G`.
    public let groups: Int
    /// Number of channels `C`.
    public let channels: Int
    /// Added to the variance before the square root.
    public let epsilon: Double
    /// Per-channel scale `γ`, [C], initially ones.
    public let weight: Variable<Scalar>
    /// Per-channel shift `β`, [C], initially zeros.
    public let bias: Variable<Scalar>

    /// Normalisation of `channels` in `groups` groups (`channels` must be divisible by `groups`),
    /// with PyTorch's `ε` = 1e-5 and identity affine map.
    public init(groups: Int, channels: Int, epsilon: Double = 1e-5) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels do not split into \(groups) groups")
        self.groups = groups
        self.channels = channels
        self.epsilon = epsilon
        weight = Variable(Tensor(ones: [channels]), requiresGradient: true)
        bias = Variable(Tensor(zeros: [channels]), requiresGradient: true)
    }

    /// `weight` and `bias` (PyTorch's names).
    public var namedParameters: [(String, Variable<Scalar>)] { [("weight", weight), ("bias", bias)] }

    /// x [N, C, H, W] → same shape.
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        callAsFunction(x, then: .identity)
    }

    /// `activation(GroupNorm(x))`, x [N, C, H, W] → same shape; a ReLU is applied inside the
    /// normalisation's kernels (forward and backward), other activations after it.
    public func callAsFunction(_ x: Variable<Scalar>, then activation: Activation) -> Variable<Scalar> {
        precondition(x.rank == 4 && x.shape[1] == channels, "GroupNorm: input \(x.shape) needs \(channels) channels")
        return groupNorm(x, weight: weight, bias: bias, groups: groups, epsilon: epsilon, activation: activation)
    }
}

/// Group normalisation of `x` ([N, C, …]) with per-channel `weight` γ and `bias` β ([C]),
/// followed by `activation`, as one differentiable operation: forward and first-order backward
/// are fused kernels (a ReLU included: `max(γ·x̂ + β, 0)` is written in the normalisation's
/// pass, and its derivative, recomputed from `x̂`, masks the gradient inside the backward
/// kernel; any other activation is applied as its own operation); a backward pass that records
/// (`createGraph`) differentiates ``composedGroupNorm(_:weight:bias:groups:epsilon:)`` (and the
/// activation) instead, so second-order gradients are exact.
public func groupNorm<Scalar>(
    _ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>, groups: Int, epsilon: Double,
    activation: Activation = .identity
) -> Variable<Scalar> {
    guard activation == .identity || activation == .relu else {
        return activation(groupNorm(x, weight: weight, bias: bias, groups: groups, epsilon: epsilon))
    }
    let rectify = activation == .relu
    let (value, normalized, reciprocalStd) = Tensor.groupNorm(
        x.value, weight: weight.value, bias: bias.value, groups: groups, epsilon: epsilon, rectify: rectify)
    return Variable.customOperation(rectify ? "groupNormReLU" : "groupNorm", value: value, inputs: [x, weight, bias]) { g, _, _ in
        if GradientMode.isRecording {
            let reference = activation(composedGroupNorm(x, weight: weight, bias: bias, groups: groups, epsilon: epsilon))
            return gradients(of: [reference], wrt: [x, weight, bias], seeds: [g], createGraph: true)
        }
        let (dx, dgamma, dbeta) = Tensor.groupNormBackward(
            g.value, normalized: normalized, reciprocalStd: reciprocalStd, weight: weight.value, groups: groups,
            rectifiedBias: rectify ? bias.value : nil)
        return [Variable(dx), Variable(dgamma), Variable(dbeta)]
    }
}

/// ``groupNorm(_:weight:bias:groups:epsilon:)`` written with differentiable operations: the
/// reference for the fused kernels, and the path of second-order gradients.
public func composedGroupNorm<Scalar>(
    _ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>, groups: Int, epsilon: Double
) -> Variable<Scalar> {
    let shape = x.shape
    var affineShape = [Int](repeating: 1, count: shape.count)
    affineShape[1] = shape[1]
    let grouped = x.reshaped([shape[0], groups, -1])
    let centred = grouped - grouped.mean(axes: [2], keepDims: true)
    let variance = square(centred).mean(axes: [2], keepDims: true)
    let normalised = (centred / sqrt(variance + Scalar(epsilon))).reshaped(shape)
    return normalised * weight.reshaped(affineShape) + bias.reshaped(affineShape)
}
