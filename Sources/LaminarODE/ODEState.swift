import LaminarAutodiff

/// A state the solver can integrate: a vector space with an error measure.
///
/// Conformers: `[Double]`, `Tensor<S>`, ``TensorList`` (several tensors: augmented states such
/// as a CNF's `[z, Δlog p, kinetic, frobenius]`) and ``VariableList`` (the same on graph
/// variables, so that solving on it records every operation: the `backprop` gradient mode).
public protocol ODEState {
    /// `base + Σ coefficients[i] · terms[i]` (step sizes already folded into the coefficients).
    static func combine(_ base: Self, _ coefficients: [Double], _ terms: [Self]) -> Self
    /// Error statistics of `error` relative to `atol + rtol·max(|y0|, |y1|)`, one entry per
    /// component.
    static func errorComponents(error: Self, y0: Self, y1: Self, rtol: Double, atol: Double) -> [ErrorComponent]
    /// False if any element is NaN or infinite.
    var isFinite: Bool { get }
    /// How `other` differs in shape from `self` (e.g. "length 3 instead of 2"), or nil when the
    /// two have the same layout. The solver checks the first derivative against the initial
    /// state with it, so a right-hand side of the wrong shape is a typed error, not a trap.
    func shapeDifference(_ other: Self) -> String?
}

/// Error statistics of one state component.
public struct ErrorComponent: Sendable, Equatable {
    /// `Σ rᵢ²` of the scaled errors rᵢ.
    public var sumOfSquares: Double
    /// `max |rᵢ|`.
    public var maxAbs: Double
    /// Number of elements.
    public var count: Int

    /// Statistics of one component of `count` scaled errors.
    public init(sumOfSquares: Double, maxAbs: Double, count: Int) {
        self.sumOfSquares = sumOfSquares
        self.maxAbs = maxAbs
        self.count = count
    }
}

/// How per-component error statistics become the one number step control compares with 1.
public enum ErrorNorm: Sendable {
    /// Root mean square over all elements of all components (Hairer's norm; the default).
    case rms
    /// The largest per-component RMS (torchdiffeq's norm for tuple states).
    case mixedRMS
    /// The largest scaled error of any element.
    case maxAbs
    /// Any other combination, e.g. a seminorm that ignores some components.
    case custom(@Sendable ([ErrorComponent]) -> Double)

    /// Applies the norm.
    public func callAsFunction(_ components: [ErrorComponent]) -> Double {
        switch self {
        case .rms:
            var sum = 0.0, n = 0
            for c in components {
                sum += c.sumOfSquares
                n += c.count
            }
            return n == 0 ? 0 : (sum / Double(n)).squareRoot()
        case .mixedRMS:
            return components.map { $0.count == 0 ? 0 : ($0.sumOfSquares / Double($0.count)).squareRoot() }.max() ?? 0
        case .maxAbs:
            return components.map(\.maxAbs).max() ?? 0
        case .custom(let f):
            return f(components)
        }
    }
}

extension Array: ODEState where Element == Double {
    /// `base + Σ cᵢ·termsᵢ` elementwise on a copy of `base`, skipping zero coefficients.
    public static func combine(_ base: [Double], _ coefficients: [Double], _ terms: [[Double]]) -> [Double] {
        var out = base
        for (c, term) in zip(coefficients, terms) where c != 0 {
            for i in out.indices { out[i] += c * term[i] }
        }
        return out
    }

    /// One component over all elements.
    public static func errorComponents(
        error: [Double], y0: [Double], y1: [Double], rtol: Double, atol: Double
    ) -> [ErrorComponent] {
        var sum = 0.0, worst = 0.0
        for i in error.indices {
            let r = error[i] / (atol + rtol * Swift.max(Swift.abs(y0[i]), Swift.abs(y1[i])))
            sum += r * r
            if Swift.abs(r) > worst || r.isNaN { worst = Swift.abs(r) }
        }
        return [ErrorComponent(sumOfSquares: sum, maxAbs: worst, count: error.count)]
    }

    /// True when every element is finite.
    public var isFinite: Bool { allSatisfy { $0.isFinite } }

    /// `length m instead of n` when the lengths differ.
    public func shapeDifference(_ other: [Double]) -> String? {
        other.count == count ? nil : "length \(other.count) instead of \(count)"
    }
}

extension Tensor: ODEState {
    /// One `axpy` per term with a nonzero coefficient, on a copy of `base`; every term must have
    /// `base`'s shape (a precondition).
    public static func combine(_ base: Tensor, _ coefficients: [Double], _ terms: [Tensor]) -> Tensor {
        var out = base
        let n = base.count
        out.withUnsafeMutableBufferPointer { y in
            for (c, term) in zip(coefficients, terms) where c != 0 {
                precondition(term.shape == base.shape, "ODE state: shapes \(term.shape) and \(base.shape) differ")
                term.withUnsafeBufferPointer { x in
                    Scalar.axpy(count: n, alpha: Scalar(c), x.baseAddress!, y.baseAddress!)
                }
            }
        }
        return out
    }

    /// One component: the whole tensor through the element type's `errorStatistics` (accumulated
    /// in Double).
    public static func errorComponents(
        error: Tensor, y0: Tensor, y1: Tensor, rtol: Double, atol: Double
    ) -> [ErrorComponent] {
        let stats = error.withUnsafeBufferPointer { e in
            y0.withUnsafeBufferPointer { a in
                y1.withUnsafeBufferPointer { b in
                    Scalar.errorStatistics(e.baseAddress!, a.baseAddress!, b.baseAddress!, count: e.count, rtol: rtol, atol: atol)
                }
            }
        }
        return [ErrorComponent(sumOfSquares: stats.sumOfSquares, maxAbs: stats.maxAbs, count: error.count)]
    }

    /// `shape [a, b] instead of [c, d]` when the shapes differ.
    public func shapeDifference(_ other: Tensor) -> String? {
        other.shape == shape ? nil : "shape \(other.shape) instead of \(shape)"
    }
}

/// A state made of several tensors of any shapes (an augmented state).
public struct TensorList<Scalar: TensorScalar>: ODEState {
    /// The components, each of any shape (e.g. `[z ([n, d]), Δlog p ([n, 1])]`).
    public var components: [Tensor<Scalar>]

    /// A state of `components`.
    public init(_ components: [Tensor<Scalar>]) { self.components = components }

    /// Component by component, each as a tensor's `combine`; every term has `base`'s components
    /// and shapes.
    public static func combine(_ base: TensorList, _ coefficients: [Double], _ terms: [TensorList]) -> TensorList {
        TensorList(base.components.indices.map { c in
            Tensor.combine(base.components[c], coefficients, terms.map { $0.components[c] })
        })
    }

    /// One component per tensor, so that ``ErrorNorm/mixedRMS`` and seminorms can weigh them
    /// separately.
    public static func errorComponents(
        error: TensorList, y0: TensorList, y1: TensorList, rtol: Double, atol: Double
    ) -> [ErrorComponent] {
        error.components.indices.flatMap { c in
            Tensor.errorComponents(
                error: error.components[c], y0: y0.components[c], y1: y1.components[c], rtol: rtol, atol: atol)
        }
    }

    /// True when every element of every component is finite.
    public var isFinite: Bool { components.allSatisfy(\.isFinite) }

    /// The first difference in the number of components or in one component's shape.
    public func shapeDifference(_ other: TensorList) -> String? {
        componentShapeDifference(components.map(\.shape), other.components.map(\.shape))
    }
}

/// A state made of graph variables: every combination is recorded, so the solve can be
/// differentiated by back-propagation. Error control reads the values only.
public struct VariableList<Scalar: TensorScalar>: ODEState {
    /// The components as graph variables.
    public var components: [Variable<Scalar>]

    /// A state of `components`; solving on it records every solver operation.
    public init(_ components: [Variable<Scalar>]) { self.components = components }

    /// `base + Σ cᵢ·termsᵢ` per component as recorded graph operations (zero coefficients
    /// skipped), so that gradients reach every term.
    public static func combine(_ base: VariableList, _ coefficients: [Double], _ terms: [VariableList]) -> VariableList {
        VariableList(base.components.indices.map { c in
            var out = base.components[c]
            for (k, term) in terms.enumerated() where coefficients[k] != 0 {
                out = out + term.components[c] * Scalar(coefficients[k])
            }
            return out
        })
    }

    /// One component per variable, computed on the values: error control records nothing.
    public static func errorComponents(
        error: VariableList, y0: VariableList, y1: VariableList, rtol: Double, atol: Double
    ) -> [ErrorComponent] {
        error.components.indices.flatMap { c in
            Tensor.errorComponents(
                error: error.components[c].value, y0: y0.components[c].value, y1: y1.components[c].value,
                rtol: rtol, atol: atol)
        }
    }

    /// True when every element of every component's value is finite.
    public var isFinite: Bool { components.allSatisfy { $0.value.isFinite } }

    /// The first difference in the number of components or in one component's shape.
    public func shapeDifference(_ other: VariableList) -> String? {
        componentShapeDifference(components.map(\.shape), other.components.map(\.shape))
    }
}

/// The first difference between two lists of component shapes, for ``ODEState/shapeDifference(_:)``.
func componentShapeDifference(_ expected: [[Int]], _ given: [[Int]]) -> String? {
    guard given.count == expected.count else {
        return "\(given.count) components instead of \(expected.count)"
    }
    for (c, (a, b)) in zip(expected, given).enumerated() where a != b {
        return "shape \(b) instead of \(a) in component \(c)"
    }
    return nil
}

/// Several components stored back to back in one `[Double]`: the state of forward-only solves
/// of small Double problems through ``odeint(_:_:times:options:gradient:)``. Stage sums and
/// error statistics are the plain loops of `[Double]` (what ``solveIVP(_:y0:times:method:rtol:atol:stepSize:maxSteps:)``
/// integrates), with one ``ErrorComponent`` per component so that every ``ErrorNorm`` sees the
/// components as ``TensorList`` reports them.
struct FlatState: ODEState {
    /// The components' scalars, in order.
    var values: [Double]
    /// Where each component ends in `values` (cumulative counts).
    var ends: [Int]

    static func combine(_ base: FlatState, _ coefficients: [Double], _ terms: [FlatState]) -> FlatState {
        FlatState(values: [Double].combine(base.values, coefficients, terms.map(\.values)), ends: base.ends)
    }

    static func errorComponents(
        error: FlatState, y0: FlatState, y1: FlatState, rtol: Double, atol: Double
    ) -> [ErrorComponent] {
        // `[Double]`'s statistics, per component.
        var out = [ErrorComponent](), start = 0
        out.reserveCapacity(error.ends.count)
        for end in error.ends {
            var sum = 0.0, worst = 0.0
            for i in start..<end {
                let r = error.values[i] / (atol + rtol * Swift.max(Swift.abs(y0.values[i]), Swift.abs(y1.values[i])))
                sum += r * r
                if Swift.abs(r) > worst || r.isNaN { worst = Swift.abs(r) }
            }
            out.append(ErrorComponent(sumOfSquares: sum, maxAbs: worst, count: end - start))
            start = end
        }
        return out
    }

    var isFinite: Bool { values.allSatisfy { $0.isFinite } }

    func shapeDifference(_ other: FlatState) -> String? {
        other.ends == ends ? nil : "component sizes \(other.ends) instead of \(ends) (cumulative)"
    }
}
