import Foundation

/// The schedule `(α_u, σ_u)` of an affine conditional probability path
/// `x_u = α_u·x₁ + σ_u·x₀` between noise `x₀ ~ N(0, I)` (u = 0) and data `x₁` (u = 1).
///
/// `u` is flow-matching time (Lipman et al. 2023 orientation: noise at 0, data at 1). Laminar's
/// CNFs run the other way — data at t = 0, base at t = T — and ``FlowMatching`` converts with
/// `t = T·(1 − u)`.
public enum PathScheduler: String, Codable, Sendable, CaseIterable {
    /// The conditional optimal-transport path (Lipman et al. 2023, eq. 20):
    /// `α_u = u`, `σ_u = 1 − (1 − σ_min)·u`. Straight lines; the default.
    case condot
    /// The variance-preserving diffusion path (Song et al. 2021; Lipman et al. 2023, eq. 19):
    /// `α_u = exp(−½·B(1 − u))`, `σ_u = √(1 − α_u²)`, `B(s) = β_min·s + ½(β_max − β_min)s²`,
    /// β_min = 0.1, β_max = 20. At u = 0 it leaves `α = e^{−5.05} ≈ 0.0064` of the data.
    case vp
    /// The trigonometric path: `α_u = sin(πu/2)`, `σ_u = cos(πu/2)` (variance preserving,
    /// exact noise at u = 0 and exact data at u = 1).
    case cosine
}

/// An affine probability path with its target velocity: what flow matching regresses on.
public struct ProbabilityPath: Codable, Sendable, Equatable {
    /// The schedule `(α_u, σ_u)`; `condot` by default.
    public var scheduler: PathScheduler
    /// Standard deviation left around each data point at u = 1 (`condot` only; Lipman et al.
    /// 2023 use 1e-4 … 1e-5). The `vp` and `cosine` paths end at σ = 0.
    public var sigmaMin: Double

    static let betaMin = 0.1
    static let betaMax = 20.0

    /// A path of `scheduler` with `sigmaMin` (used by `condot` only); checked by ``validate()``.
    public init(scheduler: PathScheduler = .condot, sigmaMin: Double = 1e-4) {
        self.scheduler = scheduler
        self.sigmaMin = sigmaMin
    }

    /// Checks `sigmaMin`; the message names the flag.
    public func validate() throws {
        guard sigmaMin >= 0, sigmaMin < 1 else {
            throw FlowError.invalidConfiguration("--sigma-min must be in [0, 1), got \(sigmaMin)")
        }
    }

    /// The largest `u` a training step samples: 1, except for `vp`, whose `σ̇_u` diverges like
    /// `(1 − u)^{−½}` at the data end (Meta's `flow_matching` samples the same open interval).
    public var maximumTime: Double { scheduler == .vp ? 1 - 1e-3 : 1 }

    /// `(α_u, σ_u, α̇_u, σ̇_u)` with dots the derivative in `u`.
    public func coefficients(_ u: Double) -> (alpha: Double, sigma: Double, dAlpha: Double, dSigma: Double) {
        switch scheduler {
        case .condot:
            return (u, 1 - (1 - sigmaMin) * u, 1, -(1 - sigmaMin))
        case .cosine:
            let h = Double.pi / 2
            return (sin(h * u), cos(h * u), h * cos(h * u), -h * sin(h * u))
        case .vp:
            let s = 1 - u
            let b = Self.betaMin * s + 0.5 * (Self.betaMax - Self.betaMin) * s * s
            let db = Self.betaMin + (Self.betaMax - Self.betaMin) * s  // dB/ds; ds/du = −1
            let alpha = exp(-0.5 * b)
            let dAlpha = alpha * 0.5 * db
            let sigma = (1 - alpha * alpha).squareRoot()
            return (alpha, sigma, dAlpha, sigma > 0 ? -alpha * dAlpha / sigma : -.infinity)
        }
    }

    /// `x_u = α_u x₁ + σ_u x₀` and its conditional velocity `ẋ_u = α̇_u x₁ + σ̇_u x₀` (per row
    /// of `u`; all of `x0`, `x1` are [n, d]), in flow-matching time.
    public func interpolate<S: TensorScalar>(noise x0: Tensor<S>, data x1: Tensor<S>, times u: [Double])
        -> (point: Tensor<S>, velocity: Tensor<S>) {
        precondition(x0.shape == x1.shape && x0.rank == 2 && u.count == x0.shape[0], "interpolate: shapes")
        let n = x0.shape[0], d = x0.shape[1]
        let c = u.map(coefficients)
        var point = Tensor<S>(zeros: [n, d])
        var velocity = Tensor<S>(zeros: [n, d])
        x0.withUnsafeBufferPointer { a in
            x1.withUnsafeBufferPointer { b in
                point.withUnsafeMutableBufferPointer { p in
                    velocity.withUnsafeMutableBufferPointer { v in
                        for i in 0..<n {
                            let (al, si, dal, dsi) = (S(c[i].alpha), S(c[i].sigma), S(c[i].dAlpha), S(c[i].dSigma))
                            for j in (i * d)..<(i * d + d) {
                                p[j] = al * b[j] + si * a[j]
                                v[j] = dal * b[j] + dsi * a[j]
                            }
                        }
                    }
                }
            }
        }
        return (point, velocity)
    }
}
