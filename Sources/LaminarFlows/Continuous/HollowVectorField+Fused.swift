import LaminarAutodiff
import LaminarNN
import LaminarODE

// Graph-free evaluation of a HollowNet field with its exact divergence, and the adjoint's
// pullback through both.
//
// With masked affine maps (Ŵ_l ⊙ M_l, β_l) at time t, p_l = h_l (Ŵ_l ⊙ M_l)ᵀ + β_l (the last
// hidden layer adds (z Eᵀ) ⊙ a), h_{l+1} = φ(p_l), f = h_L Ôᵀ + β_L with Ô = Ŵ_L ⊙ M_L, and
//
//     div = φ′(p_{L−1}) w,   w = colsum(Ô) ⊙ a,
//
// the reverse pass for seeds (f̄, d̄iv) is the MLP's forward-chain reverse with two extra terms:
//
//     Ô̄ = f̄ᵀ h_L + 1 (w̄ ⊙ a)ᵀ,   ā = w̄ ⊙ colsum(Ô) + colsum(p̄_{L−1} ⊙ z Eᵀ),   w̄ = d̄ivᵀ φ′(p_{L−1}),
//     p̄_{L−1} = (f̄ Ô) ⊙ φ′(p_{L−1}) + d̄iv ⊙ φ″(p_{L−1}) ⊙ w,   z̄ += (p̄_{L−1} ⊙ a) E,
//
// then, for l = L−1 … 0: Ŵ̄_l = (p̄_lᵀ h_l) ⊙ M_l, β̄_l = colsum(p̄_l), h̄_l = p̄_l (Ŵ_l ⊙ M_l),
// p̄_{l−1} = h̄_l ⊙ φ′(p_{l−1}) (z̄ += h̄_0 at the input). Masked weight gradients go through each
// layer's `affinePullback`. Only the exact trace has this form (Hutchinson probes use the
// graph); `HollowVectorFieldTests` checks it against the recorded graph in Double.

/// The forward pass of a ``HollowVectorField`` kept for its derivatives.
struct HollowForward<Scalar: TensorScalar> {
    /// h_l, the input of layer l (h_0 = z).
    var inputs: [Tensor<Scalar>]
    /// φ′(p_l) and, for pullbacks, φ″(p_l) of the hidden layers.
    var first: [Tensor<Scalar>]
    var second: [Tensor<Scalar>]
    /// f(t, z) ([n, d]) and its divergence ([n, 1]).
    var output: Tensor<Scalar>
    var divergence: Tensor<Scalar>
}

/// The masked maps of a ``HollowVectorField`` at one time.
struct HollowMaps<Scalar: TensorScalar> {
    /// (Ŵ_l ⊙ M_l, β_l) per layer, the output layer last.
    var layers: [(weight: Tensor<Scalar>, bias: Tensor<Scalar>?)]
    /// a ([1, d·k]).
    var direct: Tensor<Scalar>
    /// colsum(Ô) ([1, d·k]) and w = colsum(Ô) ⊙ a ([d·k, 1]).
    var outputColumns: Tensor<Scalar>
    var diagonalWeights: Tensor<Scalar>
}

extension HollowVectorField {
    func maskedMaps(_ t: Double) -> HollowMaps<Scalar> {
        let layerMaps = layers.enumerated().map { l, layer -> (weight: Tensor<Scalar>, bias: Tensor<Scalar>?) in
            let map = layer.affineValue(t: Scalar(t))
            return (Tensor.product(map.weight, masks[l]), map.bias)
        }
        let a = direct.value.reshaped([1, -1])
        let columns = layerMaps[hiddenCount].weight.sum(axes: [0], keepDims: true)
        return HollowMaps(
            layers: layerMaps, direct: a, outputColumns: columns,
            diagonalWeights: Tensor.product(columns, a).reshaped([-1, 1]))
    }

    func forwardPass(_ maps: HollowMaps<Scalar>, _ z: Tensor<Scalar>, second: Bool) -> HollowForward<Scalar> {
        let op = activation.fusedOperation
        var pass = HollowForward<Scalar>(inputs: [z], first: [], second: [], output: z, divergence: z)
        var h = z
        for l in 0..<hiddenCount {
            let map = maps.layers[l]
            var p = map.bias.map { Tensor.affine(h, weight: map.weight, bias: $0) } ?? matmul(h, map.weight, transposeB: true)
            if l == hiddenCount - 1 { p.addProduct(matmul(z, expansion, transposeB: true), maps.direct.broadcast(to: p.shape)) }
            let a = p.activationDerivatives(op, second: second)
            h = a.value
            pass.inputs.append(h)
            pass.first.append(a.first)
            if let d2 = a.second { pass.second.append(d2) }
        }
        let out = maps.layers[hiddenCount]
        pass.output = out.bias.map { Tensor.affine(h, weight: out.weight, bias: $0) } ?? matmul(h, out.weight, transposeB: true)
        pass.divergence = matmul(pass.first[hiddenCount - 1], maps.diagonalWeights)
        return pass
    }

    /// `[f, −div, ‖f‖²?]` at `(t, z)` with no graph and the exact divergence in one extra
    /// elementwise pass; nil for Hutchinson probes (an estimate is pointless when the exact
    /// value is this cheap; the graph path serves them). Blocks of rows run concurrently.
    @_specialize(where Scalar == Float)
    public func fusedDerivatives(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool
    ) -> [Tensor<Scalar>]? {
        guard case .exact = probes else { return nil }
        let maps = maskedMaps(t)
        return mapRowBlocks(rows: z.shape[0]) { rows in
            let pass = forwardPass(maps, rowBlock(z, rows), second: false)
            return augmentedDerivatives(pass.output, divergence: pass.divergence, kinetic: kinetic)
        }
    }

    /// The augmented right-hand side with its vector–Jacobian products for the seeds
    /// `[s_z, s_Δ, s_K?]`, exact divergence only (nil for Hutchinson probes).
    @_specialize(where Scalar == Float)
    public func fusedPullback(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool,
        seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar>? {
        guard case .exact = probes else { return nil }
        let maps = maskedMaps(t)
        let parts = RowParallel.map(RowParallel.blocks(rows: z.shape[0])) { rows in
            blockPullback(maps, rowBlock(z, rows), kinetic: kinetic, seeds: seeds.map { rowBlock($0, rows) })
        }
        var directGradient = parts[0].direct
        for part in parts.dropFirst() { directGradient += part.direct }
        // Masked weights: the gradient of Ŵ_l is the mask times that of Ŵ_l ⊙ M_l.
        return assembleFusedPullback(
            t: t, layers: layers, layerParameters: layerParameters, biasPresent: maps.layers.map { $0.bias != nil },
            blockWeightGradients: parts.map(\.weights), blockBiasGradients: parts.map(\.biases), weightMasks: masks,
            extra: [ObjectIdentifier(direct): directGradient.reshaped(direct.shape)],
            parameters: parameters, blockValues: parts.map(\.value), blockStateGradients: parts.map(\.z),
            seeds: seeds, kinetic: kinetic)
    }

    /// One block of rows of the pullback: values, z̄, and the gradients of the masked weights,
    /// the biases and `a`.
    private func blockPullback(
        _ maps: HollowMaps<Scalar>, _ z: Tensor<Scalar>, kinetic: Bool, seeds: [Tensor<Scalar>]
    ) -> (value: [Tensor<Scalar>], z: Tensor<Scalar>, weights: [Tensor<Scalar>], biases: [Tensor<Scalar>], direct: Tensor<Scalar>) {
        let pass = forwardPass(maps, z, second: true)
        let last = hiddenCount - 1
        let (outputSeed, divergenceSeed) = augmentedSeeds(seeds, f: pass.output, kinetic: kinetic)  // −s_Δ: [n, 1]

        var weights = [Tensor<Scalar>](), biases = [Tensor<Scalar>]()
        // Output layer, and the divergence's dependence on Ô through w.
        let wBar = matmul(divergenceSeed, transposeA: true, pass.first[last])  // [1, d·k]
        var outputWeightBar = matmul(outputSeed, transposeA: true, pass.inputs[hiddenCount])
        outputWeightBar += Tensor.product(wBar, maps.direct).broadcast(to: outputWeightBar.shape)
        weights.append(outputWeightBar)
        biases.append(outputSeed.sum(axes: [0]))
        var directBar = Tensor.product(wBar, maps.outputColumns)

        // Last hidden layer: through h_L, and through φ′ in the divergence.
        let hBar = matmul(outputSeed, maps.layers[hiddenCount].weight)
        var pBar = Tensor.product(hBar, pass.first[last])
        pBar.addProduct(
            pass.second[last], divergenceSeed.broadcast(to: pBar.shape),
            maps.diagonalWeights.reshaped([1, -1]).broadcast(to: pBar.shape))
        let expanded = matmul(z, expansion, transposeB: true)
        directBar += Tensor.product(pBar, expanded).sum(axes: [0], keepDims: true)
        var zBar = matmul(Tensor.product(pBar, maps.direct.broadcast(to: pBar.shape)), expansion)

        for l in stride(from: last, through: 0, by: -1) {
            weights.append(matmul(pBar, transposeA: true, pass.inputs[l]))
            biases.append(pBar.sum(axes: [0]))
            let inputBar = matmul(pBar, maps.layers[l].weight)
            if l > 0 {
                pBar = Tensor.product(inputBar, pass.first[l - 1])
            } else {
                zBar += inputBar
            }
        }
        return (
            augmentedDerivatives(pass.output, divergence: pass.divergence, kinetic: kinetic), zBar, weights.reversed(),
            biases.reversed(), directBar)
    }
}
