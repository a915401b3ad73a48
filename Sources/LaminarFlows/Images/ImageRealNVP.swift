import Foundation
import LaminarAutodiff
import LaminarNN

/// Settings of ``ImageRealNVP`` (stored in checkpoints).
public struct ImageRealNVPConfiguration: Codable, Sendable, Equatable {
    /// Image channels C.
    public var channels: Int
    /// Image height H in pixels.
    public var height: Int
    /// Image width W in pixels.
    public var width: Int
    /// Number of scales; every scale but the last ends with a squeeze, channel-wise couplings
    /// and a factor-out of half of the channels.
    public var scales: Int
    /// Checkerboard couplings before each squeeze (and channel-wise couplings after it); the
    /// last scale has one more checkerboard coupling (Dinh et al.: 3, 3 and 4).
    public var couplingsPerStage: Int
    /// Hidden channels of each coupling's convolutional network (3×3 convolutions, ReLU).
    public var hidden: [Int]

    /// Settings for `[C, H, W]` images (default MNIST's 1×28×28) with the given scales, couplings and hidden channels.
    public init(channels: Int = 1, height: Int = 28, width: Int = 28, scales: Int = 2, couplingsPerStage: Int = 3,
                hidden: [Int] = [32, 32]) {
        (self.channels, self.height, self.width) = (channels, height, width)
        (self.scales, self.couplingsPerStage, self.hidden) = (scales, couplingsPerStage, hidden)
    }

    /// The data dimension C·H·W.
    public var dimension: Int { channels * height * width }

    /// Throws ``FlowError/invalidConfiguration(_:)`` when the shape cannot be squeezed as often as the scales ask, or a count is out of range.
    public func validate() throws {
        guard channels > 0, height > 1, width > 1 else {
            throw FlowError.invalidConfiguration("image shape must be at least 1×2×2, got \(channels)×\(height)×\(width)")
        }
        guard imageSizeIsReasonable(channels, height, width) else {
            throw FlowError.invalidConfiguration("image shape \(channels)×\(height)×\(width) is larger than 2²⁴ values")
        }
        guard scales >= 1, couplingsPerStage >= 1 else {
            throw FlowError.invalidConfiguration("scales and couplings per stage must be ≥ 1")
        }
        guard !hidden.isEmpty, hidden.allSatisfy({ $0 > 0 }) else {
            throw FlowError.invalidConfiguration("hidden channels must be positive, e.g. 32-32; got \(hidden)")
        }
        if let odd = firstOddHalving(height: height, width: width, count: scales - 1) {
            throw FlowError.invalidConfiguration(
                "scale \(odd.index + 1): \(odd.height)×\(odd.width) cannot be squeezed (odd side); use fewer scales")
        }
    }
}

/// One affine coupling on `[n, C, H, W]` with a fixed binary mask `m` (checkerboard over pixels
/// or a half of the channels): the masked part conditions a convolutional network whose output
/// gives scale `s` and shift `t` for the rest,
///
///     y = x ⊙ exp(s) + t,   s = σ ⊙ tanh(ŝ(x ⊙ m)) ⊙ (1 − m),   t = t̂(x ⊙ m) ⊙ (1 − m),
///
/// `log|det ∂y/∂x| = Σ s`. The last convolution starts at zero (identity at initialisation).
final class ImageCoupling<Scalar: TensorScalar> {
    let mask: Tensor<Scalar>
    let complement: Tensor<Scalar>
    let layers: [Conv2d<Scalar>]
    /// Per-channel bound σ of the log-scale.
    let scale: Variable<Scalar>
    let channels: Int

    init(mask: Tensor<Scalar>, hidden: [Int], using rng: inout RandomGenerator) {
        let c = mask.shape[1]
        self.mask = mask
        self.complement = Tensor(ones: mask.shape) - mask
        let sizes = [c] + hidden
        var layers = zip(sizes, sizes.dropFirst()).map {
            Conv2d<Scalar>(inputChannels: $0, outputChannels: $1, kernelSize: 3, padding: 1, using: &rng)
        }
        let last = Conv2d<Scalar>(inputChannels: sizes.last!, outputChannels: 2 * c, kernelSize: 3, padding: 1, using: &rng)
        last.weight.assign(Tensor(zeros: last.weight.shape))
        last.bias?.assign(Tensor(zeros: [2 * c]))
        layers.append(last)
        self.layers = layers
        self.scale = Variable(Tensor(ones: [1, c, 1, 1]), requiresGradient: true)
        self.channels = c
    }

    var namedParameters: [(String, Variable<Scalar>)] {
        layers.enumerated().flatMap { prefixed("net.\($0.offset)", $0.element.namedParameters) } + [("scale", scale)]
    }

    /// `(s, t)` from the conditioning part `x ⊙ m`.
    private func scaleAndShift(_ x: Variable<Scalar>) -> (Variable<Scalar>, Variable<Scalar>) {
        var h = x * Variable(mask)
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 { h = relu(h) }
        }
        let free = Variable(complement)
        let s = tanh(h.slice(axis: 1, 0..<channels)) * scale * free
        let t = h.slice(axis: 1, channels..<(2 * channels)) * free
        return (s, t)
    }

    func forward(_ x: Variable<Scalar>) -> (Variable<Scalar>, Variable<Scalar>) {
        let (s, t) = scaleAndShift(x)
        return (x * exp(s) + t, s.reshaped([x.shape[0], -1]).sum(axes: [1]))
    }

    func inverse(_ y: Variable<Scalar>) -> (Variable<Scalar>, Variable<Scalar>) {
        let (s, t) = scaleAndShift(y)  // y ⊙ m = x ⊙ m
        return ((y - t) * exp(-s), -s.reshaped([y.shape[0], -1]).sum(axes: [1]))
    }

    /// Checkerboard mask `[1, C, H, W]`: 1 where `(row + column + parity)` is even.
    static func checkerboard(_ c: Int, _ h: Int, _ w: Int, parity: Int) -> Tensor<Scalar> {
        Tensor(shape: [1, c, h, w], scalars: (0..<(c * h * w)).map { i in
            let (r, col) = ((i / w) % h, i % w)
            return (r + col + parity) % 2 == 0 ? 1 : 0
        })
    }

    /// Channel mask `[1, C, H, W]`: the first half of the channels (`parity` 0) or the second.
    static func channelwise(_ c: Int, _ h: Int, _ w: Int, parity: Int) -> Tensor<Scalar> {
        Tensor(shape: [1, c, h, w], scalars: (0..<(c * h * w)).map { i in
            ((i / (h * w)) < c / 2) == (parity == 0) ? 1 : 0
        })
    }
}

/// Real NVP for images (Dinh, Sohl-Dickstein & Bengio 2017): at each scale checkerboard
/// affine couplings, a squeeze, channel-wise couplings, and half of the channels factored out;
/// the last scale has checkerboard couplings only. Coupling networks are small ResNet-free
/// convolution stacks (CPU-sized); batch normalisation is left out so that the density does
/// not depend on the batch. Rows are flattened images `[n, C·H·W]`; the base vector is the
/// factored parts in order followed by the last scale's output (as in ``MultiscaleCNF``).
public final class ImageRealNVP<Scalar: TensorScalar>: Flow {
    /// The model's settings (stored in checkpoints).
    public let configuration: ImageRealNVPConfiguration
    /// Per scale: couplings before the squeeze, after it (none on the last scale).
    let stages: [(before: [ImageCoupling<Scalar>], after: [ImageCoupling<Scalar>])]

    /// Builds the model with fresh weights from `rng`; throws when `configuration` is invalid.
    public init(_ configuration: ImageRealNVPConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        var (c, h, w) = (configuration.channels, configuration.height, configuration.width)
        var stages: [(before: [ImageCoupling<Scalar>], after: [ImageCoupling<Scalar>])] = []
        let k = configuration.couplingsPerStage
        for s in 0..<configuration.scales {
            let last = s == configuration.scales - 1
            let before = (0..<(last ? k + 1 : k)).map { i in
                ImageCoupling<Scalar>(mask: ImageCoupling<Scalar>.checkerboard(c, h, w, parity: i % 2), hidden: configuration.hidden, using: &rng)
            }
            guard !last else {
                stages.append((before, []))
                break
            }
            (c, h, w) = (4 * c, h / 2, w / 2)
            let after = (0..<k).map { i in
                ImageCoupling<Scalar>(mask: ImageCoupling<Scalar>.channelwise(c, h, w, parity: i % 2), hidden: configuration.hidden, using: &rng)
            }
            stages.append((before, after))
            c -= c / 2
        }
        self.stages = stages
    }

    /// The data dimension C·H·W.
    public var dimension: Int { configuration.dimension }

    /// `couplings.<k>.…` for every coupling in transport order.
    public var namedParameters: [(String, Variable<Scalar>)] {
        stages.flatMap { $0.before + $0.after }.enumerated().flatMap { prefixed("couplings.\($0.offset)", $0.element.namedParameters) }
    }

    /// Shapes `(C, H, W)` entering each scale.
    var scaleShapes: [(Int, Int, Int)] {
        MultiscaleReshape.scaleShapes(
            channels: configuration.channels, height: configuration.height, width: configuration.width, scales: configuration.scales)
    }

    /// Data → base: flattened images `x` ([n, C·H·W]) to the base vector (factored parts, then the last scale), with the exact log-determinant.
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "Real NVP image input")
        }
        let n = x.shape[0]
        var logDet = Variable(Tensor<Scalar>(zeros: [n]))
        var factored: [Variable<Scalar>] = []
        var (c, h, w) = scaleShapes[0]
        var state = x.reshaped([n, c, h, w])
        for (s, stage) in stages.enumerated() {
            for coupling in stage.before {
                let (y, ld) = coupling.forward(state)
                (state, logDet) = (y, logDet + ld)
            }
            guard s < stages.count - 1 else { break }
            state = MultiscaleReshape.squeeze(state)
            for coupling in stage.after {
                let (y, ld) = coupling.forward(state)
                (state, logDet) = (y, logDet + ld)
            }
            let parts = MultiscaleReshape.factorOut(state, kept: 4 * c - 4 * c / 2)
            factored.append(parts.factored.reshaped([n, -1]))
            state = parts.continuing
            (c, h, w) = scaleShapes[s + 1]
        }
        return FlowOutput(value: Variable.concatenate(factored + [state.reshaped([n, -1])], axis: 1), logDeterminant: logDet)
    }

    /// Base → data, the exact inverse of ``forward(_:)``.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        guard z.rank == 2, z.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: z.shape, what: "Real NVP image base sample")
        }
        let n = z.shape[0]
        let base = MultiscaleReshape.splitBase(z, shapes: scaleShapes)
        var state = base.last
        var logDet = Variable(Tensor<Scalar>(zeros: [n]))
        for s in stride(from: stages.count - 1, through: 0, by: -1) {
            if s < stages.count - 1 {
                state = MultiscaleReshape.merge(state, base.factored[s])
                for coupling in stages[s].after.reversed() {
                    let (x, ld) = coupling.inverse(state)
                    (state, logDet) = (x, logDet + ld)
                }
                state = MultiscaleReshape.unsqueeze(state)
            }
            for coupling in stages[s].before.reversed() {
                let (x, ld) = coupling.inverse(state)
                (state, logDet) = (x, logDet + ld)
            }
        }
        return FlowOutput(value: state.reshaped([n, -1]), logDeterminant: logDet)
    }

    /// Mean negative log-likelihood of the (preprocessed) batch in nats.
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let nll = -(try logProbability(x)).mean()
        return TrainingLoss(loss: nll, nll: Double(nll.value.scalar))
    }
}
