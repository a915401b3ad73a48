import LaminarAutodiff
import LaminarNN

/// FFJORD's image dynamics: a stack of `ConcatConv2d` layers (time as an extra input channel,
/// 3×3, padding 1) with an activation between them, mapping a `[C, H, W]` state to its
/// velocity. The CNF core sees flattened rows `[n, C·H·W]`; the field reshapes inside.
public final class ConvVectorField<Scalar: TensorScalar>: CNFVectorField {
    /// Image channels C of the state.
    public let channels: Int
    /// Image height H in pixels.
    public let height: Int
    /// Image width W in pixels.
    public let width: Int
    /// The convolutions, `C → hidden… → C` channels.
    public let layers: [ConcatConv2d<Scalar>]
    /// The nonlinearity between the convolutions.
    public let activation: Activation

    /// A field on `[C, H, W]` images with hidden channel counts `hidden`, initialised from `rng`.
    public init(channels: Int, height: Int, width: Int, hidden: [Int], activation: Activation, using rng: inout RandomGenerator) {
        precondition(channels > 0 && height > 0 && width > 0, "ConvVectorField: empty image shape")
        let sizes = [channels] + hidden + [channels]
        layers = zip(sizes, sizes.dropFirst()).map { ConcatConv2d(inputChannels: $0, outputChannels: $1, using: &rng) }
        (self.channels, self.height, self.width, self.activation) = (channels, height, width, activation)
    }

    /// `diffeq.layers.<k>.…`, the reference FFJORD's names.
    public var namedParameters: [(String, Variable<Scalar>)] {
        layers.enumerated().flatMap { prefixed("diffeq.layers.\($0.offset)", $0.element.namedParameters) }
    }

    /// `f(t, z)` for flattened images `z` ([n, C·H·W]) at time `t` (rank 0), flattened the same way.
    public func callAsFunction(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        let n = z.shape[0]
        var h = z.reshaped([n, channels, height, width])
        for (i, layer) in layers.enumerated() {
            h = layer(t: t, x: h)
            if i < layers.count - 1 { h = activation(h) }
        }
        return h.reshaped([n, channels * height * width])
    }
}
