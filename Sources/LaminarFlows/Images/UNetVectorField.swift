import Foundation
import LaminarAutodiff
import LaminarNN

/// A small U-Net vector field for image CNFs (after Ho et al. 2020's DDPM U-Net, as used for
/// flow matching by Lipman et al. 2023 and torchcfm): residual blocks with GroupNorm and SiLU,
/// a sinusoidal time embedding added to every block, 2×2 average-pool downsampling and
/// nearest-neighbour upsampling, skip connections between the resolutions.
///
/// `channels[l]` are the feature channels at resolution `l` (full size, ½, ¼, …); a level is
/// entered by halving the image, so every level but the last needs even sides. Rows are
/// flattened images `[n, C·H·W]`, like every CNF field. Every operation is differentiable twice
/// (Hutchinson's divergence inside the adjoint needs it).
public final class UNetVectorField<Scalar: TensorScalar>: CNFVectorField {
    /// Image channels C of the state.
    public let imageChannels: Int
    /// Image height H in pixels.
    public let height: Int
    /// Image width W in pixels.
    public let width: Int
    /// Feature channels per resolution (full size first).
    public let channels: [Int]
    /// Width of the sinusoidal embedding (`channels[0]`); the MLP after it is 4× as wide.
    public let embeddingWidth: Int
    /// Multiplies t before the sinusoids, so that t ∈ [0, T] spans the embedding's periods.
    public let timeScale: Double
    let timeMLP: (Linear<Scalar>, Linear<Scalar>)
    let inputConv: Conv2d<Scalar>
    let down: [UNetResidualBlock<Scalar>]
    let middle: UNetResidualBlock<Scalar>
    let up: [UNetResidualBlock<Scalar>]
    let outputNorm: GroupNorm<Scalar>
    let outputConv: Conv2d<Scalar>

    /// - Parameters:
    ///   - channels: feature channels per resolution, e.g. `[32, 64, 64]` (three resolutions).
    ///   - groups: GroupNorm groups (must divide every channel count).
    ///   - timeLength: T of the CNF, to scale the time embedding.
    public init(
        imageChannels: Int, height: Int, width: Int, channels: [Int], groups: Int = 8, timeLength: Double = 1,
        using rng: inout RandomGenerator
    ) throws {
        guard !channels.isEmpty, channels.allSatisfy({ $0 > 0 && $0 % groups == 0 }) else {
            throw FlowError.invalidConfiguration("U-Net channels \(channels) must be positive multiples of \(groups) (GroupNorm groups)")
        }
        if let odd = firstOddHalving(height: height, width: width, count: channels.count - 1) {
            throw FlowError.invalidConfiguration(
                "U-Net: \(odd.height)×\(odd.width) cannot be halved for resolution \(odd.index + 2); use fewer --hidden entries")
        }
        (self.imageChannels, self.height, self.width, self.channels) = (imageChannels, height, width, channels)
        embeddingWidth = Swift.max(2, channels[0] - channels[0] % 2)
        timeScale = 1000 / timeLength
        let embedded = 4 * channels[0]
        timeMLP = (Linear(inputSize: embeddingWidth, outputSize: embedded, using: &rng),
                   Linear(inputSize: embedded, outputSize: embedded, using: &rng))
        inputConv = Conv2d(inputChannels: imageChannels, outputChannels: channels[0], kernelSize: 3, padding: 1, using: &rng)
        var down: [UNetResidualBlock<Scalar>] = []
        var previous = channels[0]
        for c in channels {
            down.append(UNetResidualBlock(input: previous, output: c, embedding: embedded, groups: groups, using: &rng))
            previous = c
        }
        self.down = down
        middle = UNetResidualBlock(input: previous, output: previous, embedding: embedded, groups: groups, using: &rng)
        var up: [UNetResidualBlock<Scalar>] = []
        for c in channels.reversed() {
            up.append(UNetResidualBlock(input: previous + c, output: c, embedding: embedded, groups: groups, using: &rng))
            previous = c
        }
        self.up = up
        outputNorm = GroupNorm(groups: groups, channels: channels[0])
        outputConv = Conv2d(inputChannels: channels[0], outputChannels: imageChannels, kernelSize: 3, padding: 1, using: &rng)
        // Start from the zero field (as DDPM's last layer): training begins at f = 0.
        outputConv.weight.assign(Tensor(zeros: outputConv.weight.shape))
        outputConv.bias?.assign(Tensor(zeros: [imageChannels]))
    }

    /// `time.*`, `input`, `down.<k>`, `middle`, `up.<k>` and `output.*` parameters.
    public var namedParameters: [(String, Variable<Scalar>)] {
        var out = prefixed("time.0", timeMLP.0.namedParameters) + prefixed("time.1", timeMLP.1.namedParameters)
        out += prefixed("input", inputConv.namedParameters)
        for (i, b) in down.enumerated() { out += prefixed("down.\(i)", b.namedParameters) }
        out += prefixed("middle", middle.namedParameters)
        for (i, b) in up.enumerated() { out += prefixed("up.\(i)", b.namedParameters) }
        return out + prefixed("output.norm", outputNorm.namedParameters) + prefixed("output.conv", outputConv.namedParameters)
    }

    /// `[sin(ω_k s t), cos(ω_k s t)]`, ω_k = 10000^{−k/half} (Vaswani et al. 2017), for `t` [n, 1].
    func sinusoidalEmbedding(_ t: Variable<Scalar>) -> Variable<Scalar> {
        let half = embeddingWidth / 2
        let frequencies = Tensor<Scalar>(shape: [1, half], scalars: (0..<half).map {
            Scalar(timeScale * exp(-log(10_000.0) * Double($0) / Double(half)))
        })
        let phase = t * frequencies
        return Variable.concatenate([sin(phase), cos(phase)], axis: 1)
    }

    /// `f(t, z)` for flattened images `z` ([n, C·H·W]) at one time `t` (rank 0).
    public func callAsFunction(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        self(rowTimes: t.reshaped([1, 1]).broadcast(to: [z.shape[0], 1]), z)
    }

    /// `f(t_i, z_i)` with one time per row (`t` [n, 1]), in one batched pass.
    public func callAsFunction(rowTimes t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        let n = z.shape[0]
        let embedding = timeMLP.1(swish(timeMLP.0(sinusoidalEmbedding(t))))
        var h = inputConv(z.reshaped([n, imageChannels, height, width]))
        var skips: [Variable<Scalar>] = []
        for (level, block) in down.enumerated() {
            if level > 0 { h = averagePool2(h) }
            h = block(h, embedding: embedding)
            skips.append(h)
        }
        h = middle(h, embedding: embedding)
        for (i, block) in up.enumerated() {
            let level = channels.count - 1 - i
            h = block(Variable.concatenate([h, skips[level]], axis: 1), embedding: embedding)
            if level > 0 { h = upsampleNearest2(h) }
        }
        h = outputConv(swish(outputNorm(h)))
        return h.reshaped([n, imageChannels * height * width])
    }
}

/// DDPM's residual block: `x + conv(SiLU(GN(conv(SiLU(GN(x))) + W·e)))`, with a 1×1 convolution
/// on the skip path when the channel count changes; `e` is the time embedding ([n, E]).
final class UNetResidualBlock<Scalar: TensorScalar> {
    let norm1: GroupNorm<Scalar>
    let conv1: Conv2d<Scalar>
    let embeddingProjection: Linear<Scalar>
    let norm2: GroupNorm<Scalar>
    let conv2: Conv2d<Scalar>
    let skip: Conv2d<Scalar>?

    init(input: Int, output: Int, embedding: Int, groups: Int, using rng: inout RandomGenerator) {
        norm1 = GroupNorm(groups: groups, channels: input)
        conv1 = Conv2d(inputChannels: input, outputChannels: output, kernelSize: 3, padding: 1, using: &rng)
        embeddingProjection = Linear(inputSize: embedding, outputSize: output, using: &rng)
        norm2 = GroupNorm(groups: groups, channels: output)
        conv2 = Conv2d(inputChannels: output, outputChannels: output, kernelSize: 3, padding: 1, using: &rng)
        skip = input == output ? nil : Conv2d(inputChannels: input, outputChannels: output, kernelSize: 1, using: &rng)
    }

    var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("norm1", norm1.namedParameters) + prefixed("conv1", conv1.namedParameters)
            + prefixed("embedding", embeddingProjection.namedParameters) + prefixed("norm2", norm2.namedParameters)
            + prefixed("conv2", conv2.namedParameters) + (skip.map { prefixed("skip", $0.namedParameters) } ?? [])
    }

    func callAsFunction(_ x: Variable<Scalar>, embedding e: Variable<Scalar>) -> Variable<Scalar> {
        var h = conv1(swish(norm1(x)))
        h = h + embeddingProjection(swish(e)).reshaped([x.shape[0], -1, 1, 1])
        h = conv2(swish(norm2(h)))
        return (skip?(x) ?? x) + h
    }
}

/// 2×2 average pooling of [n, c, h, w] (even h, w) with reshapes and a mean: differentiable
/// to any order.
func averagePool2<S>(_ x: Variable<S>) -> Variable<S> {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    return x.reshaped([n * c * h / 2, 2, w / 2, 2]).mean(axes: [1, 3]).reshaped([n, c, h / 2, w / 2])
}

/// Nearest-neighbour 2× upsampling of [n, c, h, w] by broadcasting.
func upsampleNearest2<S>(_ x: Variable<S>) -> Variable<S> {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    return x.reshaped([n * c * h, 1, w, 1]).broadcast(to: [n * c * h, 2, w, 2]).reshaped([n, c, 2 * h, 2 * w])
}
