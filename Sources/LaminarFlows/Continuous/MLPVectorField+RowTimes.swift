import LaminarAutodiff
import LaminarNN

extension MLPVectorField {
    /// `f(t_i, z_i)` for every row, with one time per row (`t` [n, 1]): what flow matching
    /// evaluates. Each layer's time conditioning is applied row by row — the gate
    /// `σ(W_g t + b_g)` becomes an [n, out] matrix instead of being folded into the weight.
    public func callAsFunction(rowTimes t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        var h = z
        for (i, layer) in layers.enumerated() {
            switch layer {
            case let l as ConcatSquashLinear<Scalar>:
                h = l.layer(h) * sigmoid(l.hyperGate(t)) + l.hyperBias(t)
            case let l as ConcatLinear<Scalar>:
                h = l.layer(Variable.concatenate([h, t], axis: 1))
            case let l as IgnoreLinear<Scalar>:
                h = l.layer(h)
            default:
                h = rowByRow(t, h) { ti, hi in layer(t: ti, x: hi) }
            }
            if i < layers.count - 1 { h = activation(h) }
        }
        return residual ? h - z : h
    }
}

extension ConvVectorField {
    /// `f(t_i, z_i)` with one time per row (`t` [n, 1]): the time channel of every
    /// `ConcatConv2d` is the row's own time.
    public func callAsFunction(rowTimes t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        let n = z.shape[0]
        var h = z.reshaped([n, channels, height, width])
        for (i, layer) in layers.enumerated() {
            let channel = t.reshaped([n, 1, 1, 1]).broadcast(to: [n, 1, h.shape[2], h.shape[3]])
            h = layer.layer(Variable.concatenate([channel, h], axis: 1))
            if i < layers.count - 1 { h = activation(h) }
        }
        return h.reshaped([n, channels * height * width])
    }
}

/// `body(t_i, x_i)` evaluated one row at a time and stacked: the fallback for fields without a
/// batched per-row time form.
func rowByRow<S>(
    _ t: Variable<S>, _ x: Variable<S>, _ body: (Variable<S>, Variable<S>) -> Variable<S>
) -> Variable<S> {
    let n = x.shape[0]
    let rows = (0..<n).map { i in
        body(t.slice(axis: 0, i..<(i + 1)).reshaped([]), x.slice(axis: 0, i..<(i + 1)))
    }
    return Variable.concatenate(rows, axis: 0)
}
