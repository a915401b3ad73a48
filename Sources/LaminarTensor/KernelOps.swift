/// Elementwise functions with one operand. Parameterised cases carry their constant as `Double`;
/// kernels convert it to the element type once, outside the loop.
public enum UnaryOp: Sendable, Hashable {
    case negate, exp, log, tanh, sigmoid, softplus, relu, elu, swish, sqrt, square, abs, reciprocal
    case sin, cos
    /// `log(1 + x)`, accurate for small `x`.
    case log1p
    /// Heaviside step: 1 where `x > 0`, else 0 (the derivative of ReLU).
    case step
    /// `x · c`.
    case scale(Double)
    /// `x + c`.
    case shift(Double)
    /// `x^p` (for `x < 0` only integer `p` is defined).
    case power(Double)
    /// `min(max(x, lo), hi)`.
    case clamp(Double, Double)
    /// 1 where `x > c`, else 0.
    case greaterThan(Double)
    /// `c` everywhere (fill).
    case constant(Double)
}

/// Elementwise functions with two broadcast operands.
public enum BinaryOp: Sendable, Hashable {
    case add, subtract, multiply, divide, maximum, minimum
    /// `a · (1 − b²)`: the derivative of tanh at output `b` applied to `a`, in one pass.
    case tanhBackward
    /// `a` where `b > 0`, else 0: the derivative of ReLU at output `b` applied to `a`, in one pass.
    case reluBackward
}

/// Reductions.
public enum ReduceOp: Sendable, Hashable {
    case sum, max
}
