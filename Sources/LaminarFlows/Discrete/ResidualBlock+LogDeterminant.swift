import Foundation
import LaminarAutodiff

/// How `log det(I + J_g)` of a residual block is computed.
///
/// With `Lip(g) < 1`, `log det(I + J) = Σ_{k≥1} (−1)^{k+1} tr(J^k)/k` (Behrmann et al. 2019) and
/// `∂/∂θ log det(I + J) = Σ_{m≥0} (−1)^m tr(J^m ∂J/∂θ)` (Chen et al. 2019, "Residual Flows", §3).
/// A plan keeps weights for both series: the value's term k is multiplied by `value[k − 1]`,
/// the gradient's term m by `gradient[m]`; absent terms are dropped.
public enum LogDeterminantPlan: Sendable, Equatable {
    /// `log|det(I + J)|` from an LU factorisation of the d×d Jacobian of every row (d VJPs); the
    /// gradient `tr((I + J)⁻¹ ∂J)` is exact too.
    case exact
    /// Power-series weights (see the type's documentation).
    case series(value: [Double], gradient: [Double])

    /// The first `terms` terms with weight one (biased; its gradient is the truncated series'
    /// own gradient).
    public static func truncated(_ terms: Int) -> LogDeterminantPlan {
        .series(value: [Double](repeating: 1, count: terms), gradient: [Double](repeating: 1, count: terms))
    }

    /// The Russian-roulette estimator (Chen et al. 2019): `N = exactTerms + G` with
    /// `G ~ Geometric(p)` (failures before the first success), every term weighted by
    /// `1/P(N ≥ k)`; unbiased for the value (terms 1…N) and, by the Neumann series, for the
    /// gradient (terms 0…N).
    public static func russianRoulette(exactTerms: Int, p: Double, using rng: inout RandomGenerator) -> LogDeterminantPlan {
        var extra = 0
        while rng.uniform() >= p, extra < 10_000 { extra += 1 }
        let n = exactTerms + extra
        func weight(_ k: Int) -> Double { k <= exactTerms ? 1 : Foundation.pow(1 - p, -Double(k - exactTerms)) }
        return .series(value: (1...n).map(weight), gradient: (0...n).map(weight))
    }
}

/// The probe vectors of the traces in the power series.
public enum LogDeterminantProbes<Scalar: TensorScalar> {
    /// The d unit vectors: exact traces.
    case exact
    /// One probe per row ([n, d]), Gaussian: Hutchinson's estimate.
    case hutchinson(Tensor<Scalar>)
}

extension ResidualBlock {
    /// `y = x + g(x)` and `log det(I + ∂g/∂x)` per row ([n]) by `plan` with `probes`.
    ///
    /// The values (the powers `vᵀJ^k`, or the full Jacobian) come from vector–Jacobian products
    /// on a local graph that is dropped at once; when a graph is being recorded, the result
    /// carries the gradient through one surrogate `Σ_j u_jᵀ J v_j` whose left vectors `u_j` are
    /// constants (the Neumann series, or rows of `(I + J)⁻¹`): the memory of one extra
    /// double-backward pass, whatever the number of terms.
    func forwardWithLogDeterminant(
        _ x: Variable<Scalar>, plan: LogDeterminantPlan, probes: LogDeterminantProbes<Scalar>
    ) -> (y: Variable<Scalar>, logDeterminant: Variable<Scalar>) {
        let n = x.shape[0], d = x.shape[1]
        let probeVectors: [Tensor<Scalar>]
        switch probes {
        case .hutchinson(let v): probeVectors = [v]
        case .exact: probeVectors = (0..<d).map { unitProbe($0, rows: n, dimension: d) }
        }
        let (value, lefts, rights) = withGradient { () -> ([Double], [Tensor<Scalar>], [Tensor<Scalar>]) in
            let xl = Variable(x.value, requiresGradient: true)
            let gl = self(xl)
            let vjp = { (w: Tensor<Scalar>) in gradients(of: [gl], wrt: [xl], seeds: [Variable(w)])[0].value }
            switch plan {
            case .exact:
                return exactLogDeterminant(vjp, rows: n, dimension: d)
            case .series(let valueWeights, let gradientWeights):
                return seriesLogDeterminant(vjp, probes: probeVectors, valueWeights: valueWeights, gradientWeights: gradientWeights)
            }
        }
        let valueTensor = Tensor<Scalar>(shape: [n], scalars: value.map { Scalar($0) })
        let recording = GradientMode.isRecording && (x.requiresGradient || trainableParameters.contains { $0.requiresGradient })
        guard recording else {
            return (x + self(x), Variable(valueTensor))
        }
        let xs = x.requiresGradient ? x : Variable(x.value, requiresGradient: true)
        let gs = self(xs)
        var surrogate: Variable<Scalar>? = nil
        for (u, v) in zip(lefts, rights) {
            let uJ = gradients(of: [gs], wrt: [xs], seeds: [Variable(u)], createGraph: true)[0]
            let term = (uJ * Variable(v)).sum(axes: [1])
            surrogate = surrogate.map { $0 + term } ?? term
        }
        let y = xs + gs
        guard let s = surrogate else { return (y, Variable(valueTensor)) }
        return (y, s + Variable(valueTensor - s.value))
    }

    private func unitProbe(_ j: Int, rows: Int, dimension d: Int) -> Tensor<Scalar> {
        var e = Tensor<Scalar>(zeros: [rows, d])
        e.withUnsafeMutableBufferPointer { buf in
            for r in 0..<rows { buf[r * d + j] = 1 }
        }
        return e
    }

    /// Power series: per probe v, `w_k = vᵀJ^k` by repeated VJPs; the value
    /// `Σ_k value[k−1] (−1)^{k+1}/k · w_k·v` and the left vector `u = Σ_m gradient[m] (−1)^m w_m`.
    private func seriesLogDeterminant(
        _ vjp: (Tensor<Scalar>) -> Tensor<Scalar>, probes: [Tensor<Scalar>], valueWeights: [Double], gradientWeights: [Double]
    ) -> ([Double], [Tensor<Scalar>], [Tensor<Scalar>]) {
        let n = probes[0].shape[0]
        var value = [Double](repeating: 0, count: n)
        var lefts: [Tensor<Scalar>] = []
        let powers = Swift.max(valueWeights.count, gradientWeights.count - 1)
        for v in probes {
            var w = v
            var left = gradientWeights.isEmpty ? Tensor<Scalar>(zeros: v.shape) : v * Scalar(gradientWeights[0])
            for k in stride(from: 1, through: powers, by: 1) {
                w = vjp(w)
                let sign = k % 2 == 1 ? 1.0 : -1.0
                if k <= valueWeights.count {
                    let dots = Tensor.product(w, v).sum(axes: [1]).scalars
                    let c = sign * valueWeights[k - 1] / Double(k)
                    for r in 0..<n { value[r] += c * Double(dots[r]) }
                }
                if k < gradientWeights.count { left.addScaled(w, Scalar(-sign * gradientWeights[k])) }
            }
            lefts.append(left)
        }
        return (value, lefts, probes)
    }

    /// The Jacobian of every row (d VJPs with unit seeds give its rows), `log|det(I + J)|` by LU
    /// with partial pivoting in Double, and the rows of `(I + J)⁻¹` as left vectors for the unit
    /// probes: `Σ_j (e_jᵀ(I + J)⁻¹) ∂J e_j = tr((I + J)⁻¹ ∂J)`.
    private func exactLogDeterminant(
        _ vjp: (Tensor<Scalar>) -> Tensor<Scalar>, rows n: Int, dimension d: Int
    ) -> ([Double], [Tensor<Scalar>], [Tensor<Scalar>]) {
        var jacobians = [Double](repeating: 0, count: n * d * d)  // [r][i][j] = ∂g_i/∂x_j
        for i in 0..<d {
            let row = vjp(unitProbe(i, rows: n, dimension: d)).scalars
            for r in 0..<n {
                for j in 0..<d { jacobians[(r * d + i) * d + j] = Double(row[r * d + j]) }
            }
        }
        var value = [Double](repeating: 0, count: n)
        var inverseRows = [[Scalar]](repeating: [Scalar](repeating: 0, count: n * d), count: d)
        for r in 0..<n {
            var a = Array(jacobians[(r * d * d)..<((r + 1) * d * d)])
            for i in 0..<d { a[i * d + i] += 1 }
            let (logAbsDet, inverse) = luLogDeterminantAndInverse(a, d)
            value[r] = logAbsDet
            for j in 0..<d {
                for c in 0..<d { inverseRows[j][r * d + c] = Scalar(inverse[j * d + c]) }
            }
        }
        let lefts = inverseRows.map { Tensor<Scalar>(shape: [n, d], scalars: $0) }
        return (value, lefts, (0..<d).map { unitProbe($0, rows: n, dimension: d) })
    }
}

/// `log|det A|` and `A⁻¹` of a row-major d×d matrix by LU with partial pivoting (−∞ and a zero
/// inverse when A is singular).
func luLogDeterminantAndInverse(_ matrix: [Double], _ d: Int) -> (Double, [Double]) {
    var a = matrix
    var inverse = [Double](repeating: 0, count: d * d)
    for i in 0..<d { inverse[i * d + i] = 1 }
    var logAbsDet = 0.0
    for col in 0..<d {
        var pivot = col
        for r in (col + 1)..<Swift.max(col + 1, d) where Swift.abs(a[r * d + col]) > Swift.abs(a[pivot * d + col]) { pivot = r }
        let p = a[pivot * d + col]
        guard p != 0, p.isFinite else { return (-.infinity, [Double](repeating: 0, count: d * d)) }
        if pivot != col {
            for c in 0..<d {
                a.swapAt(pivot * d + c, col * d + c)
                inverse.swapAt(pivot * d + c, col * d + c)
            }
        }
        logAbsDet += Foundation.log(Swift.abs(p))
        for c in 0..<d {
            a[col * d + c] /= p
            inverse[col * d + c] /= p
        }
        for r in 0..<d where r != col {
            let f = a[r * d + col]
            guard f != 0 else { continue }
            for c in 0..<d {
                a[r * d + c] -= f * a[col * d + c]
                inverse[r * d + c] -= f * inverse[col * d + c]
            }
        }
    }
    return (logAbsDet, inverse)
}
