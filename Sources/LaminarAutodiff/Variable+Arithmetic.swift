// Broadcasting arithmetic. Gradients of broadcast operands are summed back to their shapes.

extension Variable {
    /// Sums a gradient back to `shape` when broadcasting widened it.
    @inline(__always)
    static func unbroadcast(_ g: Variable, to shape: [Int]) -> Variable {
        g.shape == shape ? g : g.sum(toShape: shape)
    }

    /// `a + b` with broadcasting; each operand's gradient is summed back to its own shape.
    public static func + (a: Variable, b: Variable) -> Variable {
        record("add", a.value + b.value, [a, b]) { g, _, needs in
            [needs[0] ? unbroadcast(g, to: a.shape) : nil, needs[1] ? unbroadcast(g, to: b.shape) : nil]
        }
    }

    /// `a − b` with broadcasting.
    public static func - (a: Variable, b: Variable) -> Variable {
        record("subtract", a.value - b.value, [a, b]) { g, _, needs in
            [needs[0] ? unbroadcast(g, to: a.shape) : nil, needs[1] ? unbroadcast(-g, to: b.shape) : nil]
        }
    }

    /// `a ⊙ b` (elementwise) with broadcasting; `∂/∂a = g ⊙ b`, `∂/∂b = g ⊙ a`.
    public static func * (a: Variable, b: Variable) -> Variable {
        record("multiply", a.value * b.value, [a, b]) { g, _, needs in
            [needs[0] ? unbroadcast(g * b, to: a.shape) : nil, needs[1] ? unbroadcast(g * a, to: b.shape) : nil]
        }
    }

    /// `a / b` elementwise with broadcasting; `∂/∂a = g / b`, `∂/∂b = −g ⊙ a / b²`.
    public static func / (a: Variable, b: Variable) -> Variable {
        record("divide", a.value / b.value, [a, b]) { g, _, needs in
            [
                needs[0] ? unbroadcast(g / b, to: a.shape) : nil,
                needs[1] ? unbroadcast(-(g * a) / (b * b), to: b.shape) : nil,
            ]
        }
    }

    /// `−a`.
    public static prefix func - (a: Variable) -> Variable {
        record("negate", -a.value, [a]) { g, _, _ in [-g] }
    }

    /// `a · c` for a constant `c`.
    public static func * (a: Variable, c: Scalar) -> Variable {
        record("scale", a.value * c, [a]) { g, _, _ in [g * c] }
    }

    /// `c · a` for a constant `c`.
    public static func * (c: Scalar, a: Variable) -> Variable { a * c }

    /// `a / c` for a constant `c`, as `a · (1/c)`.
    public static func / (a: Variable, c: Scalar) -> Variable { a * (1 / c) }

    /// `a + c` for a constant `c`.
    public static func + (a: Variable, c: Scalar) -> Variable {
        record("shift", a.value + c, [a]) { g, _, _ in [g] }
    }

    /// `c + a` for a constant `c`.
    public static func + (c: Scalar, a: Variable) -> Variable { a + c }

    /// `a − c` for a constant `c`.
    public static func - (a: Variable, c: Scalar) -> Variable { a + (-c) }

    /// `c − a` for a constant `c`.
    public static func - (c: Scalar, a: Variable) -> Variable { (-a) + c }

    /// `a + t` for a constant tensor `t` (broadcasting).
    public static func + (a: Variable, t: Tensor<Scalar>) -> Variable { a + Variable(t) }
    /// `a · t` for a constant tensor `t` (broadcasting).
    public static func * (a: Variable, t: Tensor<Scalar>) -> Variable { a * Variable(t) }
    /// `a − t` for a constant tensor `t` (broadcasting).
    public static func - (a: Variable, t: Tensor<Scalar>) -> Variable { a - Variable(t) }
}
