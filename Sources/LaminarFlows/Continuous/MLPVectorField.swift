import LaminarAutodiff
import LaminarNN

/// How each layer of an ``MLPVectorField`` sees time (FFJORD's `layer_type`).
public enum ODENetLayerType: String, Sendable, CaseIterable, Codable {
    /// `(W x + b) · σ(W_g t + b_g) + W_b t` (FFJORD's default).
    case concatsquash
    /// `W [x, t] + b`.
    case concat
    /// `W x + b`; the dynamics are autonomous.
    case ignore

    /// A stack of layers of this kind, one per consecutive pair of `widths` (in order, so the
    /// generator's draws are those of building them one by one).
    func layers<Scalar: TensorScalar>(
        widths: [Int], using rng: inout RandomGenerator
    ) -> [any AffineTimeConditionedLayer<Scalar>] {
        (0..<(widths.count - 1)).map { i -> any AffineTimeConditionedLayer<Scalar> in
            switch self {
            case .concatsquash: return ConcatSquashLinear<Scalar>(inputSize: widths[i], outputSize: widths[i + 1], using: &rng)
            case .concat: return ConcatLinear<Scalar>(inputSize: widths[i], outputSize: widths[i + 1], using: &rng)
            case .ignore: return IgnoreLinear<Scalar>(inputSize: widths[i], outputSize: widths[i + 1], using: &rng)
            }
        }
    }
}

/// The dynamics network of a CNF: time-conditioned linear layers `d → h₁ → … → h_k → d` with a
/// nonlinearity between layers (none after the last), as FFJORD's `ODEnet`.
public final class MLPVectorField<Scalar: TensorScalar>: CNFVectorField {
    let layers: [any AffineTimeConditionedLayer<Scalar>]
    let activation: Activation
    /// Each layer's parameters in `namedParameters` order (the names are built on demand, the
    /// fused pullback needs only the variables).
    let layerParameters: [[Variable<Scalar>]]
    /// FFJORD's `residual`: the field is `net(t, z) − z`, so the flow learns a correction to a
    /// contraction. The divergence of the `−z` term (−d) comes out of the same VJPs.
    public let residual: Bool

    /// - Parameters:
    ///   - dimension: state dimension d.
    ///   - hidden: hidden widths, e.g. `[64, 64, 64]`.
    ///   - activation: `tanh`, `softplus`, `elu`, `swish`, `relu`, `sigmoid`.
    ///   - residual: subtract `z` from the network's output.
    public init(
        dimension: Int, hidden: [Int], layerType: ODENetLayerType, activation: String, residual: Bool = false,
        using rng: inout RandomGenerator
    ) throws {
        self.residual = residual
        guard let act = Activation(name: activation) else {
            throw FlowError.invalidConfiguration(
                "activation '\(activation)' unknown; use \(Activation.allNames.joined(separator: ", "))")
        }
        self.activation = act
        let widths = [dimension] + hidden + [dimension]
        let layers: [any AffineTimeConditionedLayer<Scalar>] = layerType.layers(widths: widths, using: &rng)
        self.layers = layers
        self.layerParameters = layers.map { $0.namedParameters.map(\.1) }
    }

    /// `f(t, z)` for a batch `z` ([n, d]) at time `t` (rank 0).
    public func callAsFunction(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        var h = z
        for (i, layer) in layers.enumerated() {
            h = layer(t: t, x: h)
            if i < layers.count - 1 { h = activation(h) }
        }
        return residual ? h - z : h
    }

    /// Parameters named like FFJORD's state dict (`layers.0.weight`, `layers.0.hyper_gate.weight`, …).
    public var namedParameters: [(String, Variable<Scalar>)] {
        layers.enumerated().flatMap { i, layer in layer.namedParameters.map { ("layers.\(i).\($0.0)", $0.1) } }
    }
}
