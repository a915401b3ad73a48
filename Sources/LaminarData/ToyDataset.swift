import Foundation
@_exported import LaminarTensor

/// The 2-D toy distributions of FFJORD's experiments (Grathwohl et al. 2019, `toy_data.py`),
/// with the same scales and noise so that log-likelihoods are comparable. Sampling uses only
/// `RandomGenerator`, so a seed fixes the points on every machine.
public enum ToyDataset: String, CaseIterable, Sendable, Codable {
    /// A mixture of eight isotropic Gaussians (σ = 0.5/1.414) centred on a circle of radius
    /// 4/1.414; closed-form density.
    case eightGaussians = "8gaussians"
    /// Uniform on the eight "on" squares of side 2 in [−4, 4)²; closed-form density (1/32 on the
    /// squares).
    case checkerboard
    /// Two interleaved spirals with uniform and Gaussian (σ = 0.1) noise.
    case twoSpirals = "2spirals"
    /// Five curved arms (FFJORD's pinwheel: radial noise σ = 0.3, tangential σ = 0.1, then scaled by 2).
    case pinwheel
    /// The 2-D Swiss roll: scikit-learn's `make_swiss_roll(noise = 1)`, columns (x, z), divided by 5.
    case swissroll
    /// Two concentric circles of radii 3 and 1.5: scikit-learn's `make_circles(factor = 0.5,
    /// noise = 0.08)` scaled by 3.
    case circles
    /// Two interleaving half-circles: scikit-learn's `make_moons(noise = 0.1)`, scaled by 2 and
    /// shifted by (−1, −0.2).
    case moons
    /// Four concentric circles of radii 3, 2.25, 1.5 and 0.75 with Gaussian noise σ = 0.08.
    case rings

    /// `n` points, shape [n, 2].
    public func sample<S: TensorScalar>(_ n: Int, using rng: inout RandomGenerator) -> Tensor<S> {
        let points = samplePoints(n, using: &rng)
        return Tensor(shape: [n, 2], scalars: points.flatMap { [S($0.0), S($0.1)] })
    }

    /// The unnormalized-or-normalized true log-density where it has a closed form (8gaussians,
    /// checkerboard); nil otherwise.
    public func logDensity(x: Double, y: Double) -> Double? {
        switch self {
        case .eightGaussians:
            // Mixture of 8 isotropic Gaussians, centres 4/1.414·(unit directions), σ = 0.5/1.414.
            let sigma = 0.5 / 1.414
            var total = 0.0
            for (cx, cy) in Self.eightCenters {
                let dx = x - 4 * cx / 1.414, dy = y - 4 * cy / 1.414
                total += exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
            }
            return log(total / 8 / (2 * Double.pi * sigma * sigma))
        case .checkerboard:
            // Uniform on the 8 "on" squares of side 2 in [-4, 4)²: density 1/32.
            guard Swift.abs(x) < 4, Swift.abs(y) < 4 else { return -.infinity }
            let on = (Int(floor(x / 2)) + Int(floor(y / 2))) & 1 == 0
            return on ? log(1.0 / 32) : -.infinity
        default:
            return nil
        }
    }

    /// Unit directions of the eight mixture components.
    public static let eightCenters: [(Double, Double)] = [
        (1, 0), (-1, 0), (0, 1), (0, -1),
        (1 / 2.0.squareRoot(), 1 / 2.0.squareRoot()), (1 / 2.0.squareRoot(), -1 / 2.0.squareRoot()),
        (-1 / 2.0.squareRoot(), 1 / 2.0.squareRoot()), (-1 / 2.0.squareRoot(), -1 / 2.0.squareRoot()),
    ]

    func samplePoints(_ n: Int, using rng: inout RandomGenerator) -> [(Double, Double)] {
        switch self {
        case .eightGaussians:
            return (0..<n).map { _ in
                let (a, b) = rng.normalPair()
                let c = Self.eightCenters[Int(rng.next() % 8)]
                return ((a * 0.5 + 4 * c.0) / 1.414, (b * 0.5 + 4 * c.1) / 1.414)
            }
        case .checkerboard:
            return (0..<n).map { _ in
                let x1 = rng.uniform() * 4 - 2
                let x2 = rng.uniform() - Double(rng.next() % 2) * 2 + floor(x1).truncatingRemainder(dividingBy: 2).magnitude
                return (x1 * 2, x2 * 2)
            }
        case .twoSpirals:
            let half = n / 2
            var out: [(Double, Double)] = []
            for i in 0..<n {
                let t = rng.uniform().squareRoot() * 540 * (2 * Double.pi) / 360
                var x = -cos(t) * t + rng.uniform() * 0.5
                var y = sin(t) * t + rng.uniform() * 0.5
                if i >= half { x = -x; y = -y }
                let (a, b) = rng.normalPair()
                out.append((x / 3 + a * 0.1, y / 3 + b * 0.1))
            }
            return out
        case .pinwheel:
            let classes = 5, rate = 0.25
            return (0..<n).map { i in
                let (a, b) = rng.normalPair()
                let f0 = a * 0.3 + 1, f1 = b * 0.1
                let label = i % classes
                let angle = 2 * Double.pi * Double(label) / Double(classes) + rate * exp(f0)
                let c = cos(angle), s = sin(angle)
                // FFJORD: features · [[c, −s], [s, c]] (row vector times rotation), then × 2.
                return (2 * (f0 * c + f1 * s), 2 * (-f0 * s + f1 * c))
            }
        case .swissroll:
            // sklearn.make_swiss_roll(noise = 1), columns (x, z), divided by 5.
            return (0..<n).map { _ in
                let t = 1.5 * Double.pi * (1 + 2 * rng.uniform())
                let (a, b) = rng.normalPair()
                _ = rng.uniform()  // the roll's height (its y coordinate) is drawn and dropped
                return ((t * cos(t) + a) / 5, (t * sin(t) + b) / 5)
            }
        case .circles:
            // sklearn.make_circles(factor = 0.5, noise = 0.08), × 3.
            return (0..<n).map { _ in
                let inner = rng.next() % 2 == 1
                let angle = 2 * Double.pi * rng.uniform()
                let r = inner ? 0.5 : 1.0
                let (a, b) = rng.normalPair()
                return (3 * (r * cos(angle) + 0.08 * a), 3 * (r * sin(angle) + 0.08 * b))
            }
        case .moons:
            // sklearn.make_moons(noise = 0.1), × 2 + (−1, −0.2).
            return (0..<n).map { _ in
                let upper = rng.next() % 2 == 0
                let angle = Double.pi * rng.uniform()
                let (a, b) = rng.normalPair()
                let (x, y) = upper ? (cos(angle), sin(angle)) : (1 - cos(angle), 1 - sin(angle) - 0.5)
                return (2 * (x + 0.1 * a) - 1, 2 * (y + 0.1 * b) - 0.2)
            }
        case .rings:
            // Four concentric circles of radii 1, 0.75, 0.5, 0.25, × 3, noise σ = 0.08.
            return (0..<n).map { _ in
                let r = [1.0, 0.75, 0.5, 0.25][Int(rng.next() % 4)]
                let angle = 2 * Double.pi * rng.uniform()
                let (a, b) = rng.normalPair()
                return (3 * r * cos(angle) + 0.08 * a, 3 * r * sin(angle) + 0.08 * b)
            }
        }
    }
}
