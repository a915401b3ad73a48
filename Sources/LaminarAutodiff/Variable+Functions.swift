// Elementwise functions. Each backward rule uses variable operations (so it records under
// `createGraph`) and reuses the output where the derivative is a function of it.

/// `exp(x)`.
public func exp<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("exp", x.value.map(.exp), [x]) { g, y, _ in [g * y] }
}

/// Natural logarithm.
public func log<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("log", x.value.map(.log), [x]) { g, _, _ in [g / x] }
}

/// `log(1 + x)`.
public func log1p<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("log1p", x.value.map(.log1p), [x]) { g, _, _ in [g / (x + 1)] }
}

/// Hyperbolic tangent; `d/dx = 1 − y²`, applied by the fused ``tanhBackward(_:output:)``.
public func tanh<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("tanh", x.value.map(.tanh), [x]) { g, y, _ in [tanhBackward(g, output: y)] }
}

/// `g · (1 − y²)` in one pass (tanh's vector–Jacobian product at output `y`); differentiable:
/// `∂/∂g = 1 − y²`, `∂/∂y = −2 g y`.
public func tanhBackward<S>(_ g: Variable<S>, output y: Variable<S>) -> Variable<S> {
    Variable.record("tanhBackward", g.value.combined(with: y.value, .tanhBackward), [g, y]) { gg, _, needs in
        [
            needs[0] ? Variable.unbroadcast(tanhBackward(gg, output: y), to: g.shape) : nil,
            needs[1] ? Variable.unbroadcast(gg * g * y * S(-2), to: y.shape) : nil,
        ]
    }
}

/// Logistic sigmoid; `d/dx = y(1 − y)`.
public func sigmoid<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("sigmoid", x.value.map(.sigmoid), [x]) { g, y, _ in [g * (y * (1 - y))] }
}

/// `log(1 + eˣ)`, computed without overflow; `d/dx = sigmoid(x)`.
public func softplus<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("softplus", x.value.map(.softplus), [x]) { g, _, _ in [g * sigmoid(x)] }
}

/// `max(x, 0)`; the derivative is the step function (second derivative zero almost everywhere),
/// applied by the fused ``reluBackward(_:output:)``.
public func relu<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("relu", x.value.map(.relu), [x]) { g, y, _ in [reluBackward(g, output: y)] }
}

/// `g` where `y > 0`, else 0, in one pass (ReLU's vector–Jacobian product at output `y`; `y > 0`
/// exactly where the input is); differentiable: `∂/∂g` is the same mask, `∂/∂y` zero almost
/// everywhere.
public func reluBackward<S>(_ g: Variable<S>, output y: Variable<S>) -> Variable<S> {
    Variable.record("reluBackward", g.value.combined(with: y.value, .reluBackward), [g, y]) { gg, _, needs in
        [needs[0] ? Variable.unbroadcast(reluBackward(gg, output: y), to: g.shape) : nil, nil]
    }
}

/// Exponential linear unit: `x` for `x > 0`, `eˣ − 1` otherwise (α = 1).
public func elu<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("elu", x.value.map(.elu), [x]) { g, y, _ in
        // d/dx = 1 for x > 0, eˣ = y + 1 otherwise.
        let positive = Variable(x.value.map(.step))
        let negative = Variable(1 - x.value.map(.step))
        return [g * (positive + negative * (y + 1))]
    }
}

/// Swish / SiLU: `x · sigmoid(x)`; `d/dx = s + y(1 − s)` with `s = sigmoid(x)`.
public func swish<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("swish", x.value.map(.swish), [x]) { g, y, _ in
        let s = sigmoid(x)
        return [g * (s + y * (1 - s))]
    }
}

/// Square root; `d/dx = 1 / (2y)`.
public func sqrt<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("sqrt", x.value.map(.sqrt), [x]) { g, y, _ in [g / (y * 2)] }
}

/// `x²`.
public func square<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("square", x.value.map(.square), [x]) { g, _, _ in [g * x * 2] }
}

/// `|x|`; derivative `sign(x)` (0 at 0).
public func abs<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("abs", x.value.map(.abs), [x]) { g, _, _ in
        [g * Variable(x.value.map(.step) - (-x.value).map(.step))]
    }
}

/// Sine.
public func sin<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("sin", x.value.map(.sin), [x]) { g, _, _ in [g * cos(x)] }
}

/// Cosine.
public func cos<S>(_ x: Variable<S>) -> Variable<S> {
    Variable.record("cos", x.value.map(.cos), [x]) { g, _, _ in [-(g * sin(x))] }
}

/// `xᵖ` for a constant exponent.
public func pow<S>(_ x: Variable<S>, _ p: Double) -> Variable<S> {
    Variable.record("power", x.value.map(.power(p)), [x]) { g, _, _ in
        [g * pow(x, p - 1) * S(p)]
    }
}

/// Elementwise maximum with broadcasting; ties send the gradient to `a`.
public func maximum<S>(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    Variable.record("maximum", maximum(a.value, b.value), [a, b]) { g, _, needs in
        // 1 where a ≥ b (that is, where b − a is not positive), else 0.
        let takeA = Variable(1 - (b.value - a.value).map(.step))
        return [
            needs[0] ? Variable.unbroadcast(g * takeA, to: a.shape) : nil,
            needs[1] ? Variable.unbroadcast(g * (1 - takeA), to: b.shape) : nil,
        ]
    }
}
