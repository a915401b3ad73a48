import LaminarAutodiff
import LaminarNN
import LaminarODE

// Graph-free evaluation of a CNF's MLP dynamics and of the adjoint's pullback through them.
//
// With p_l = h_l Ŵ_lᵀ + β_l (Ŵ_l, β_l the layer's affine map at time t), h_{l+1} = φ(p_l),
// f = p_{L−1} (− z when residual), a probe ε gives the vector–Jacobian chain
//
//     g_L = ε,  q_{L−1} = ε,  q_l = g_{l+1} ⊙ φ′(p_l),  g_l = q_l Ŵ_l,  εᵀ(∂f/∂z) = g_0 (− ε),
//
// and the divergence estimate Σ_j (εᵀ ∂f/∂z)_j ε_j. The adjoint needs this function's own
// vector–Jacobian product, i.e. the reverse of both chains, which is written out here:
// for the probe chain (l = 0 … L−1)
//
//     Ŵ̄_l += q_lᵀ ḡ_l,   q̄_l = ḡ_l Ŵ_lᵀ,   ḡ_{l+1} = q̄_l ⊙ φ′(p_l),   p̄_l += q̄_l ⊙ g_{l+1} ⊙ φ″(p_l),
//
// starting from ḡ_0 = (seed of the divergence) ⊙ ε, then for the forward chain (l = L−1 … 0)
//
//     β̄_l = Σ_rows p̄_l,   Ŵ̄_l += p̄_lᵀ h_l,   h̄_l = p̄_l Ŵ_l,   p̄_{l−1} += h̄_l ⊙ φ′(p_{l−1}).
//
// Every batch-sized product is one BLAS call and every elementwise step one fused pass; the small
// maps (Ŵ_l, β_l) ← θ are each layer's `affineValue` / `affinePullback`. `FusedDynamicsTests`
// checks all of it against the recorded graph in Double.

/// The probe vectors of a divergence estimate.
public enum DivergenceProbes<Scalar: TensorScalar> {
    /// One Hutchinson noise tensor ([n, d]).
    case hutchinson(Tensor<Scalar>)
    /// The d unit vectors: the exact trace.
    case exact(dimension: Int)

    /// Number of probes, i.e. of vector–Jacobian passes per estimate: 1 for Hutchinson, d for
    /// the exact trace.
    public var count: Int {
        switch self {
        case .hutchinson: return 1
        case .exact(let d): return d
        }
    }

    /// Probe `i` restricted to `rows` of the batch.
    public func probe(_ i: Int, rows: Range<Int>) -> Tensor<Scalar> {
        switch self {
        case .hutchinson(let noise): return rowBlock(noise, rows)
        case .exact(let d):
            var e = Tensor<Scalar>(zeros: [rows.count, d])
            e.withUnsafeMutableBufferPointer { buf in
                for r in 0..<rows.count { buf[r * d + i] = 1 }
            }
            return e
        }
    }
}

/// Rows `rows` of `x` (no copy when they are all of them).
func rowBlock<S>(_ x: Tensor<S>, _ rows: Range<Int>) -> Tensor<S> {
    rows == 0..<x.shape[0] ? x : x.slice(axis: 0, rows)
}

/// Blocks of rows stacked back into one batch.
func stackRows<S>(_ parts: [Tensor<S>]) -> Tensor<S> {
    parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 0)
}

/// `body` on blocks of a batch of `rows` rows (concurrently when more than one thread is
/// configured), each block returning the same list of tensors; entry by entry, the blocks are
/// stacked back into one batch.
func mapRowBlocks<S>(rows: Int, _ body: (Range<Int>) -> [Tensor<S>]) -> [Tensor<S>] {
    let parts = RowParallel.map(RowParallel.blocks(rows: rows), body)
    return parts[0].indices.map { c in stackRows(parts.map { $0[c] }) }
}

/// `[f, −div, ‖f‖²?]`, the CNF's augmented right-hand side, from `f` ([n, d]) and its divergence
/// ([n, 1]; nil: zero), with the kinetic energy `‖f‖²` of each row when `kinetic` is set.
func augmentedDerivatives<S>(_ f: Tensor<S>, divergence: Tensor<S>?, kinetic: Bool) -> [Tensor<S>] {
    var out = [f, divergence.map { -$0 } ?? Tensor(zeros: [f.shape[0], 1])]
    if kinetic { out.append(Tensor.product(f, f).sum(axes: [1], keepDims: true)) }
    return out
}

/// The seeds of `f` and of its divergence given the seeds `[s_z, s_Δ, s_K?]` of
/// ``augmentedDerivatives(_:divergence:kinetic:)``: `s_z + 2·s_K ⊙ f` and `−s_Δ`.
func augmentedSeeds<S>(
    _ seeds: [Tensor<S>], f: Tensor<S>, kinetic: Bool
) -> (output: Tensor<S>, divergence: Tensor<S>) {
    var outputSeed = seeds[0]
    if kinetic { outputSeed.addScaled(seeds[2] * f, 2) }
    return (outputSeed, -seeds[1])
}

extension Activation {
    /// The activation as a tensor operation for the fused kernels (`scale(1)`: the identity).
    var fusedOperation: UnaryOp {
        switch self {
        case .tanh: return .tanh
        case .softplus: return .softplus
        case .elu: return .elu
        case .swish: return .swish
        case .relu: return .relu
        case .sigmoid: return .sigmoid
        case .identity: return .scale(1)
        }
    }
}

/// The forward pass of an ``MLPVectorField`` kept for its derivatives.
struct ODENetForward<Scalar: TensorScalar> {
    /// Ŵ_l as plain tensors.
    var weights: [Tensor<Scalar>]
    /// h_l, the input of layer l (h_0 = z).
    var inputs: [Tensor<Scalar>]
    /// φ′(p_l) and φ″(p_l) for the hidden layers.
    var first: [Tensor<Scalar>]
    var second: [Tensor<Scalar>]
    /// f(t, z).
    var output: Tensor<Scalar>
}

extension MLPVectorField {
    /// Ŵ_l and β_l at time `t`.
    private func affineMaps(_ t: Double) -> [(weight: Tensor<Scalar>, bias: Tensor<Scalar>?)] {
        layers.map { $0.affineValue(t: Scalar(t)) }
    }

    private func forwardPass(
        _ maps: [(weight: Tensor<Scalar>, bias: Tensor<Scalar>?)], _ z: Tensor<Scalar>, second: Bool
    ) -> ODENetForward<Scalar> {
        let op = activation.fusedOperation
        var pass = ODENetForward<Scalar>(weights: maps.map(\.weight), inputs: [z], first: [], second: [], output: z)
        var h = z
        for (l, map) in maps.enumerated() {
            let p = map.bias.map { Tensor.affine(h, weight: map.weight, bias: $0) }
                ?? matmul(h, map.weight, transposeB: true)
            if l == maps.count - 1 {
                pass.output = residual ? p - z : p
            } else {
                let a = p.activationDerivatives(op, second: second)
                h = a.value
                pass.inputs.append(h)
                pass.first.append(a.first)
                if let d2 = a.second { pass.second.append(d2) }
            }
        }
        return pass
    }

    /// The probe chain for `e`: `εᵀ ∂f/∂z` and, when `keep` is set, q_l and g_{l+1} per layer.
    private func probeChain(
        _ pass: ODENetForward<Scalar>, _ e: Tensor<Scalar>, keep: Bool
    ) -> (vjp: Tensor<Scalar>, q: [Tensor<Scalar>], g: [Tensor<Scalar>]) {
        let layerCount = pass.weights.count
        var q = [Tensor<Scalar>](), g = [Tensor<Scalar>]()
        var gradient = e
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let ql = l == layerCount - 1 ? e : Tensor.product(gradient, pass.first[l])
            if keep {
                q.append(ql)
                g.append(gradient)
            }
            gradient = matmul(ql, pass.weights[l])
        }
        // Stored in layer order: q[l], g[l] = g_{l+1}.
        return (residual ? gradient - e : gradient, q.reversed(), g.reversed())
    }

    /// `Σ_j (εᵀ ∂f/∂z)_j ε_j` per row ([n, 1]).
    private func probeTerm(_ vjp: Tensor<Scalar>, _ e: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor.product(vjp, e).sum(axes: [1], keepDims: true)
    }

    /// `[f, −div, ‖f‖²?]` at `(t, z)` with no graph: the CNF's augmented right-hand side. With
    /// more than one thread configured, blocks of rows run concurrently.
    @_specialize(where Scalar == Float)
    public func fusedDerivatives(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool
    ) -> [Tensor<Scalar>]? {
        let maps = affineMaps(t)
        return mapRowBlocks(rows: z.shape[0]) { rows in
            let pass = forwardPass(maps, rowBlock(z, rows), second: false)
            var divergence: Tensor<Scalar>? = nil
            for i in 0..<probes.count {
                let e = probes.probe(i, rows: rows)
                let term = probeTerm(probeChain(pass, e, keep: false).vjp, e)
                divergence = divergence.map { $0 + term } ?? term
            }
            return augmentedDerivatives(pass.output, divergence: divergence, kinetic: kinetic)
        }
    }

    /// The augmented right-hand side with its vector–Jacobian products for the seeds
    /// `[s_z, s_Δ, s_K?]`. Blocks of rows run concurrently when more than one thread is
    /// configured; their parameter gradients are summed.
    @_specialize(where Scalar == Float)
    public func fusedPullback(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool,
        seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar>? {
        let maps = affineMaps(t)
        let parts = RowParallel.map(RowParallel.blocks(rows: z.shape[0])) { rows in
            blockPullback(
                maps, rowBlock(z, rows), probes: probes, rows: rows, kinetic: kinetic,
                seeds: seeds.map { rowBlock($0, rows) })
        }

        // θ through the small maps (Ŵ_l, β_l) ← θ, each layer's pullback written out.
        return assembleFusedPullback(
            t: t, layers: layers, layerParameters: layerParameters, biasPresent: maps.map { $0.bias != nil },
            blockWeightGradients: parts.map(\.weightGradients), blockBiasGradients: parts.map(\.biasGradients),
            parameters: parameters,
            blockValues: parts.map(\.value), blockStateGradients: parts.map(\.zGradient), seeds: seeds, kinetic: kinetic)
    }

    /// One block of rows of ``fusedPullback(_:_:probes:kinetic:seeds:parameters:)``: values,
    /// the state gradient, and the gradients of every layer's Ŵ_l and β_l.
    private func blockPullback(
        _ maps: [(weight: Tensor<Scalar>, bias: Tensor<Scalar>?)], _ z: Tensor<Scalar>,
        probes: DivergenceProbes<Scalar>, rows: Range<Int>, kinetic: Bool, seeds: [Tensor<Scalar>]
    ) -> (value: [Tensor<Scalar>], zGradient: Tensor<Scalar>, weightGradients: [Tensor<Scalar>], biasGradients: [Tensor<Scalar>]) {
        let pass = forwardPass(maps, z, second: true)
        let layerCount = maps.count, n = z.shape[0]

        // Seeds of f (through f itself and the kinetic state) and of the divergence.
        let (outputSeed, divergenceSeed) = augmentedSeeds(seeds, f: pass.output, kinetic: kinetic)
        var zGradient = residual ? -outputSeed : Tensor<Scalar>(zeros: z.shape)
        var weightGradients = pass.weights.map { Tensor<Scalar>(zeros: $0.shape) }
        var preGradients = [Tensor<Scalar>?](repeating: nil, count: layerCount)
        preGradients[layerCount - 1] = outputSeed

        // Each probe chain, then its reverse.
        var divergence: Tensor<Scalar>? = nil
        for i in 0..<probes.count {
            let e = probes.probe(i, rows: rows)
            let chain = probeChain(pass, e, keep: true)
            let term = probeTerm(chain.vjp, e)
            divergence = divergence.map { $0 + term } ?? term
            var gBar = divergenceSeed * e
            for l in 0..<layerCount {
                weightGradients[l].addMatmul(chain.q[l], transposeA: true, gBar)
                guard l < layerCount - 1 else { break }
                let qBar = matmul(gBar, pass.weights[l], transposeB: true)
                gBar = Tensor.productPair(
                    qBar, chain.g[l], pass.second[l], pass.first[l], accumulatingInto: &preGradients[l])
            }
        }

        // Reverse of the forward chain.
        var biasGradients = [Tensor<Scalar>]()
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let pBar = preGradients[l] ?? Tensor(zeros: [n, pass.weights[l].shape[0]])
            biasGradients.append(pBar.sum(axes: [0]))
            weightGradients[l].addMatmul(pBar, transposeA: true, pass.inputs[l])
            let hBar = matmul(pBar, pass.weights[l])
            if l > 0 {
                if preGradients[l - 1] == nil {
                    preGradients[l - 1] = Tensor.product(hBar, pass.first[l - 1])
                } else {
                    preGradients[l - 1]!.addProduct(hBar, pass.first[l - 1])
                }
            } else {
                zGradient += hBar
            }
        }
        return (
            augmentedDerivatives(pass.output, divergence: divergence, kinetic: kinetic), zGradient, weightGradients,
            biasGradients.reversed())
    }
}
