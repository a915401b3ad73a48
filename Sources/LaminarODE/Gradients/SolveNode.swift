import LaminarAutodiff

/// Packs the states at output times 1…N into one recorded operation whose inputs are `y0` and
/// the parameters, and unpacks them with differentiable slices. The backward rule receives the
/// gradient of every output state at once, as adjoint methods need.
public func makeSolveNode<Scalar: TensorScalar>(
    name: StaticString, y0: [Variable<Scalar>], parameters: [Variable<Scalar>], outputs: [[Tensor<Scalar>]],
    backward: @escaping (_ outputGradients: [[Tensor<Scalar>]], _ needs: [Bool]) -> [Tensor<Scalar>?]
) -> [[Variable<Scalar>]] {
    let shapes = y0.map(\.shape)
    let sizes = y0.map(\.count)
    let perTime = sizes.reduce(0, +)
    let flat = Tensor.concatenate(outputs.flatMap { $0.map { $0.reshaped([-1]) } }, axis: 0)
    let node = Variable.customOperation(name, value: flat, inputs: y0 + parameters) { g, _, needs in
        var grads: [[Tensor<Scalar>]] = []
        for k in 0..<outputs.count {
            var offset = k * perTime
            var comps: [Tensor<Scalar>] = []
            for (c, shape) in shapes.enumerated() {
                comps.append(g.value.slice(axis: 0, offset..<(offset + sizes[c])).reshaped(shape))
                offset += sizes[c]
            }
            grads.append(comps)
        }
        return backward(grads, needs).map { $0.map { Variable($0) } }
    }
    var states: [[Variable<Scalar>]] = []
    for k in 0..<outputs.count {
        var offset = k * perTime
        var comps: [Variable<Scalar>] = []
        for (c, shape) in shapes.enumerated() {
            comps.append(node.slice(axis: 0, offset..<(offset + sizes[c])).reshaped(shape))
            offset += sizes[c]
        }
        states.append(comps)
    }
    return states
}
