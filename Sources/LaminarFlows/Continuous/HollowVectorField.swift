import LaminarAutodiff
import LaminarNN

/// A CNF vector field whose divergence is exact at the cost of about one extra pass: a
/// HollowNet (Chen & Duvenaud 2019, "Neural Networks with Cheap Differential Operators").
///
///     f_i(t, z) = τ_i(z_i, h_i(t, z_{−i})),   τ_i(z_i, h_i) = v_iᵀ φ(h_i + a_i z_i) + c_i(t)
///
/// The conditioner `h` is a masked, time-conditioned MLP whose hidden units are split into d
/// groups of `k_l` units (`hidden = [k_0, …, k_{L−1}]`, per dimension): group `g` of the first
/// layer sees every input except `z_g`, later layers connect group `g` only to group `g`, so
/// `h_i` never depends on `z_i` (its Jacobian is hollow). The transformer `τ_i` adds `a_i z_i`
/// (`a_i` ∈ R^{k_{L−1}}, the `direct` parameter) to the last layer's pre-activation of group
/// `i` and reads output `i` from that group alone.
///
/// `∂f/∂z = D + H` with `D` diagonal (through `τ` alone) and `H` hollow (through `h`), so
///
///     tr(∂f/∂z) = Σ_i ∂τ_i/∂z_i = Σ_u v_u · φ′(p_u) · a_u
///
/// over the last layer's units `u`: one elementwise pass over values the forward pass already
/// has, in any dimension, instead of d vector–Jacobian products. With one hidden layer the
/// conditioner is the hollow part of a dense layer and the field is an ordinary MLP with
/// block-structured output.
///
/// The whole network is a masked MLP, so every product is one dense GEMM on `[n, d·k]` and the
/// graph-free passes of `HollowVectorField+Fused.swift` follow the MLP field's.
public final class HollowVectorField<Scalar: TensorScalar>: CNFVectorField {
    /// The data dimension d: the field maps `[n, d]` states to `[n, d]` velocities.
    public let dimension: Int
    /// Units per dimension in each hidden layer.
    public let groupWidths: [Int]
    let layers: [any AffineTimeConditionedLayer<Scalar>]
    let activation: Activation
    /// `a`, the transformer's weight on its own coordinate ([d·k_{L−1}]: unit `u` of group `g`
    /// multiplies `z_g`).
    public let direct: Variable<Scalar>
    /// Each layer's 0/1 connectivity ([out, in]): hollow, then block-diagonal, then group → output.
    let masks: [Tensor<Scalar>]
    /// `E` ([d·k_{L−1}, d], `E[u, g] = 1` when unit `u` belongs to group `g`): `z Eᵀ` repeats each
    /// coordinate over its group.
    let expansion: Tensor<Scalar>
    /// Each layer's parameters in `namedParameters` order.
    let layerParameters: [[Variable<Scalar>]]

    /// - Parameters:
    ///   - dimension: state dimension d (≥ 1).
    ///   - hidden: units per dimension in each hidden layer, e.g. `[16, 16]` (total width `16·d`).
    ///   - layerType: time conditioning of every layer, as for ``MLPVectorField``.
    ///   - activation: `tanh`, `softplus`, `elu`, `swish`, `relu`, `sigmoid`.
    public init(
        dimension: Int, hidden: [Int], layerType: ODENetLayerType, activation: String,
        using rng: inout RandomGenerator
    ) throws {
        guard dimension >= 1, !hidden.isEmpty, hidden.allSatisfy({ $0 > 0 }) else {
            throw FlowError.invalidConfiguration("the hollow field needs d ≥ 1 and positive widths per dimension, got d = \(dimension), \(hidden)")
        }
        guard let act = Activation(name: activation) else {
            throw FlowError.invalidConfiguration(
                "activation '\(activation)' unknown; use \(Activation.allNames.joined(separator: ", "))")
        }
        self.dimension = dimension
        self.groupWidths = hidden
        self.activation = act
        let d = dimension
        let widths = [d] + hidden.map { $0 * d } + [d]
        let layers: [any AffineTimeConditionedLayer<Scalar>] = layerType.layers(widths: widths, using: &rng)
        self.layers = layers
        self.layerParameters = layers.map { $0.namedParameters.map(\.1) }

        // Unit u of a layer with k units per group belongs to group u / k; inputs and outputs of
        // the field are groups of one.
        let groups = [1] + hidden + [1]
        var masks: [Tensor<Scalar>] = []
        for l in 0..<(groups.count - 1) {
            let (kIn, kOut) = (groups[l], groups[l + 1])
            let (rows, cols) = (kOut * d, kIn * d)
            let hollow = l == 0
            masks.append(Tensor(shape: [rows, cols]) { buf in
                for u in 0..<rows {
                    for v in 0..<cols {
                        let same = u / kOut == v / kIn
                        buf[u * cols + v] = (hollow ? !same : same) ? 1 : 0
                    }
                }
            })
        }
        self.masks = masks
        let k = hidden.last!
        self.expansion = Tensor(shape: [k * d, d]) { buf in
            for u in 0..<(k * d) {
                for g in 0..<d { buf[u * d + g] = u / k == g ? 1 : 0 }
            }
        }
        // The direct weight sees one input; scale it like a unit with the conditioner's fan-in.
        let fanIn = hidden.count == 1 ? Swift.max(d - 1, 1) : hidden[hidden.count - 2]
        let bound = Scalar(1 / Double(fanIn + 1).squareRoot())
        direct = Variable(.randomUniform([k * d], low: -bound, high: bound, using: &rng), requiresGradient: true)
    }

    /// Number of hidden layers L.
    var hiddenCount: Int { groupWidths.count }

    /// `f(t, z)` for a batch `z` ([n, d]) at time `t` (rank 0), on the graph.
    public func callAsFunction(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        graphPass(t, z).f
    }

    /// `f` and the divergence by the one-extra-pass rule, both differentiable: the transformer's
    /// derivative `φ′(p)` comes from differentiating the activation alone (the conditioner's
    /// output held fixed), then `Σ_u v_u φ′(p_u) a_u`.
    public func valueAndDivergence(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> (f: Variable<Scalar>, trace: Variable<Scalar>)? {
        let pass = graphPass(t, z)
        // φ′(p) as a differentiable function of p: the VJP of the activation with a seed of ones.
        let p = pass.pre.requiresGradient ? pass.pre : Variable(pass.pre.value, requiresGradient: true)
        let slope = withGradient {
            gradients(
                of: [activation(p)], wrt: [p], seeds: [Variable(Tensor(ones: p.shape))],
                createGraph: true)[0]
        }
        let trace = matmul(slope, pass.diagonalWeights.reshaped([-1, 1]))
        return (pass.f, trace)
    }

    /// The masked network on the graph: the output, the last hidden layer's pre-activation `p`
    /// ([n, d·k]), the conditioner's part of it (`h`, without `a z`), and the per-unit weights
    /// `v_u a_u` of the divergence ([d·k]).
    func graphPass(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> (
        f: Variable<Scalar>, pre: Variable<Scalar>, conditioner: Variable<Scalar>, diagonalWeights: Variable<Scalar>
    ) {
        var h = z
        var pre = z
        var conditioner = z
        for l in 0..<hiddenCount {
            let map = layers[l].affine(t: t)
            pre = linear(h, weight: map.weight * masks[l], bias: map.bias)
            if l == hiddenCount - 1 {
                conditioner = pre
                pre = pre + matmul(z, Variable(expansion), transposeB: true) * direct.reshaped([1, -1])
            }
            h = activation(pre)
        }
        let out = layers[hiddenCount].affine(t: t)
        let outWeight = out.weight * masks[hiddenCount]
        let f = linear(h, weight: outWeight, bias: out.bias)
        // Column u of the masked output weight has its one entry v_u in row g(u).
        return (f, pre, conditioner, outWeight.sum(axes: [0]) * direct)
    }

    /// Parameters: each layer like FFJORD's (`layers.0.…`, the output layer last), then `direct`.
    public var namedParameters: [(String, Variable<Scalar>)] {
        layers.enumerated().flatMap { i, layer in layer.namedParameters.map { ("layers.\(i).\($0.0)", $0.1) } }
            + [("direct", direct)]
    }
}
