import RealModule

/// The seeded pseudo-random generator used everywhere in Laminar: xoshiro256** (Blackman &
/// Vigna 2018), seeded through SplitMix64. Identical seeds give identical streams on every
/// machine and run; the whole state is four words and is saved in checkpoints for exact resume.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    /// The four state words (never all zero).
    public private(set) var state: [UInt64]

    /// A generator whose stream is fully determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitmix(), splitmix(), splitmix(), splitmix()]
    }

    /// Restores a generator from saved state words.
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        self.state = state
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = Self.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = Self.rotl(state[3], 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A pair of independent standard normal values (Box–Muller).
    public mutating func normalPair() -> (Double, Double) {
        var u1 = uniform()
        while u1 == 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * Double.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * Double.cos(theta), r * Double.sin(theta))
    }

    /// One standard normal value.
    public mutating func normal() -> Double { normalPair().0 }

    /// An independent generator derived from this one's stream (advances this one).
    public mutating func fork() -> RandomGenerator {
        RandomGenerator(seed: next())
    }
}

extension Tensor {
    /// Independent N(0, 1) elements.
    /// Draws one Box–Muller pair per two elements.
    public static func randomNormal(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { out in
            var i = 0
            while i < out.count {
                let (a, b) = rng.normalPair()
                out[i] = Scalar(a)
                if i + 1 < out.count { out[i + 1] = Scalar(b) }
                i += 2
            }
        }
    }

    /// Independent uniform elements in [low, high).
    public static func randomUniform(
        _ shape: [Int], low: Scalar = 0, high: Scalar = 1, using rng: inout RandomGenerator
    ) -> Tensor {
        Tensor(shape: shape) { out in
            let lo = Double(low), span = Double(high) - Double(low)
            for i in 0..<out.count { out[i] = Scalar(lo + span * rng.uniform()) }
        }
    }

    /// Independent Rademacher elements (±1 with equal probability).
    /// One 64-bit draw gives 64 signs.
    public static func randomRademacher(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { out in
            var bits: UInt64 = 0
            for i in 0..<out.count {
                if i % 64 == 0 { bits = rng.next() }
                out[i] = (bits >> UInt64(i % 64)) & 1 == 1 ? 1 : -1
            }
        }
    }
}

extension MutableCollection where Index == Int {
    /// Fisher–Yates shuffle driven by a Laminar generator (reproducible across platforms,
    /// unlike the standard library's unspecified algorithm).
    public mutating func shuffle(using rng: inout RandomGenerator) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            swapAt(startIndex + i, startIndex + j)
        }
    }
}
