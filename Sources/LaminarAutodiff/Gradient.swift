/// Reverse-mode differentiation: vector–Jacobian products of `outputs` with respect to `inputs`.
///
/// Returns `Σ_k seed_kᵀ ∂output_k/∂input` for each input (zeros where an input does not influence
/// the outputs). `seeds` default to ones (the gradient of the sum). With `createGraph: true` the
/// backward rules record, so the returned gradients can be differentiated again — the equivalent
/// of `torch.autograd.grad(..., create_graph=True)`.
///
/// Gradients are accumulated (`+=`), so variables used several times receive every
/// contribution. Only operations on a path from an output to a requested input are visited.
///
/// - Complexity: one backward rule per recorded operation on a path from an output to a
///   requested input; a `matmul` rule costs one product of the forward's size per operand that
///   needs a gradient.
public func gradients<Scalar>(
    of outputs: [Variable<Scalar>], wrt inputs: [Variable<Scalar>],
    seeds: [Variable<Scalar>]? = nil, createGraph: Bool = false
) -> [Variable<Scalar>] {
    if let seeds {
        precondition(seeds.count == outputs.count, "gradients: \(seeds.count) seeds for \(outputs.count) outputs")
        for (s, o) in zip(seeds, outputs) {
            precondition(s.shape == o.shape, "gradients: seed shape \(s.shape) differs from output shape \(o.shape)")
        }
    }
    let body = { () -> [Variable<Scalar>] in
        backpropagate(outputs: outputs, inputs: inputs, seeds: seeds)
    }
    return createGraph ? withGradient(body) : withoutGradient(body)
}

/// Gradient of a scalar (or summed) output with respect to `inputs`.
public func gradients<Scalar>(
    of output: Variable<Scalar>, wrt inputs: [Variable<Scalar>], createGraph: Bool = false
) -> [Variable<Scalar>] {
    gradients(of: [output], wrt: inputs, seeds: nil, createGraph: createGraph)
}

private func backpropagate<Scalar>(
    outputs: [Variable<Scalar>], inputs: [Variable<Scalar>], seeds: [Variable<Scalar>]?
) -> [Variable<Scalar>] {
    let wanted = Set(inputs.map(ObjectIdentifier.init))

    // Post-order DFS over the recorded graph; `reaches[v]` says whether v leads to a wanted input.
    var reaches: [ObjectIdentifier: Bool] = [:]
    var order: [Variable<Scalar>] = []
    var stack: [(Variable<Scalar>, Int)] = []
    for out in outputs where reaches[ObjectIdentifier(out)] == nil {
        stack.append((out, 0))
        reaches[ObjectIdentifier(out)] = false
        while let (v, next) = stack.popLast() {
            let id = ObjectIdentifier(v)
            if let node = v.node, next < node.inputs.count {
                stack.append((v, next + 1))
                let child = node.inputs[next]
                let cid = ObjectIdentifier(child)
                if child.requiresGradient, reaches[cid] == nil {
                    reaches[cid] = false
                    stack.append((child, 0))
                }
                continue
            }
            var r = wanted.contains(id)
            if let node = v.node, !r {
                r = node.inputs.contains { reaches[ObjectIdentifier($0)] == true }
            }
            reaches[id] = r
            if r { order.append(v) }
        }
    }

    var grads: [ObjectIdentifier: Variable<Scalar>] = [:]
    for (k, out) in outputs.enumerated() where reaches[ObjectIdentifier(out)] == true {
        let seed = seeds?[k] ?? Variable(Tensor(ones: out.shape))
        accumulate(&grads, ObjectIdentifier(out), seed)
    }

    // Reverse topological order: every consumer is processed before its producers.
    for v in order.reversed() {
        guard let node = v.node, let g = grads[ObjectIdentifier(v)] else { continue }
        let needs = node.inputs.map { $0.requiresGradient && reaches[ObjectIdentifier($0)] == true }
        if !needs.contains(true) { continue }
        let inputGrads = node.backward(g, v, needs)
        for (i, input) in node.inputs.enumerated() where needs[i] {
            guard let gi = inputGrads[i] else { continue }
            precondition(
                gi.shape == input.shape,
                "gradients: backward of \(node.name) gave shape \(gi.shape) for an input of shape \(input.shape)")
            accumulate(&grads, ObjectIdentifier(input), gi)
        }
        if !wanted.contains(ObjectIdentifier(v)) {
            grads[ObjectIdentifier(v)] = nil  // free intermediate gradients early
        }
    }

    return inputs.map { grads[ObjectIdentifier($0)] ?? Variable(Tensor(zeros: $0.shape)) }
}

@inline(__always)
private func accumulate<Scalar>(
    _ grads: inout [ObjectIdentifier: Variable<Scalar>], _ id: ObjectIdentifier, _ g: Variable<Scalar>
) {
    if let existing = grads[id] {
        grads[id] = existing + g
    } else {
        grads[id] = g
    }
}
