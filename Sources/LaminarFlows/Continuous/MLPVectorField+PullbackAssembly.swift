import LaminarAutodiff
import LaminarNN
import LaminarODE

/// The tail the fused pullbacks of ``MLPVectorField`` and ``HollowVectorField`` share: each
/// layer's gradients of Ŵ_l and β_l mapped to its parameters θ through the layer's
/// `affinePullback`, the requested parameters' gradients in order (zeros for those the field
/// does not own), the state gradients `[z̄, 0, 0?]` (nothing depends on Δlog p or the kinetic
/// state) and the values `[f, −div, ‖f‖²?]`, both stacked from the blocks of rows.
///
/// - Parameters:
///   - blockWeightGradients, blockBiasGradients: per block of rows, Ŵ̄_l and β̄_l per layer
///     (summed here; β̄_l is ignored for layers without a bias).
///   - weightMasks: M_l when the layers' weights enter masked (Ŵ_l ⊙ M_l): Ŵ̄_l is masked too.
///   - extra: gradients of parameters outside the layers (the hollow field's `a`).
///   - blockValues, blockStateGradients: per block of rows, the values and z̄.
func assembleFusedPullback<Scalar: TensorScalar>(
    t: Double, layers: [any AffineTimeConditionedLayer<Scalar>], layerParameters: [[Variable<Scalar>]],
    biasPresent: [Bool], blockWeightGradients: [[Tensor<Scalar>]], blockBiasGradients: [[Tensor<Scalar>]],
    weightMasks: [Tensor<Scalar>]? = nil, extra: [ObjectIdentifier: Tensor<Scalar>] = [:], parameters: [Variable<Scalar>],
    blockValues: [[Tensor<Scalar>]], blockStateGradients: [Tensor<Scalar>], seeds: [Tensor<Scalar>], kinetic: Bool
) -> DynamicsPullback<Scalar> {
    var weightGradients = blockWeightGradients[0], biasGradients = blockBiasGradients[0]
    for block in 1..<blockWeightGradients.count {
        for l in layers.indices {
            weightGradients[l] += blockWeightGradients[block][l]
            biasGradients[l] += blockBiasGradients[block][l]
        }
    }
    if let weightMasks {
        for l in layers.indices { weightGradients[l] = Tensor.product(weightGradients[l], weightMasks[l]) }
    }
    var byParameter = extra
    for (l, layer) in layers.enumerated() {
        let grads = layer.affinePullback(
            t: Scalar(t), weight: weightGradients[l], bias: biasPresent[l] ? biasGradients[l] : nil)
        for (parameter, g) in zip(layerParameters[l], grads) { byParameter[ObjectIdentifier(parameter)] = g }
    }
    let parameterGradients = parameters.map { byParameter[ObjectIdentifier($0)] ?? Tensor(zeros: $0.shape) }
    var stateGradients = [stackRows(blockStateGradients), Tensor<Scalar>(zeros: seeds[1].shape)]
    if kinetic { stateGradients.append(Tensor(zeros: seeds[2].shape)) }
    let value = blockValues[0].indices.map { c in stackRows(blockValues.map { $0[c] }) }
    return DynamicsPullback(value: value, stateGradients: stateGradients, parameterGradients: parameterGradients)
}
