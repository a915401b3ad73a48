import Foundation

/// Counter-based Gaussian numbers: a standard normal variate that is a pure function of a
/// seed and a counter, so a random field can be evaluated at any index without generating the
/// ones before it (the splittable seeding a virtual Brownian tree needs).
///
/// The counter is mixed with SplitMix64's finaliser (Steele, Lea & Flood 2014), two 53-bit
/// uniforms go through Box–Muller.
@usableFromInline
struct CounterNormal: Sendable {
    @usableFromInline let seed: UInt64

    @inlinable init(seed: UInt64) { self.seed = CounterNormal.mix(seed &+ 0x6A09_E667_F3BC_C908) }

    /// SplitMix64's output function: a bijective avalanche mix of 64 bits.
    @inlinable static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A key for node `index` at `depth` of a binary tree (injective for depth < 64).
    @inlinable func key(depth: Int, index: UInt64) -> UInt64 {
        CounterNormal.mix(seed ^ CounterNormal.mix(UInt64(depth) &* 0xD6E8_FEB8_6659_FD93 ^ index))
    }

    /// Writes `count` independent standard normals for `key` into `out`.
    @inlinable func fill(key: UInt64, _ out: UnsafeMutablePointer<Double>, count: Int) {
        var i = 0
        var counter: UInt64 = 0
        while i < count {
            let u1 = CounterNormal.mix(key &+ counter &* 0x9E37_79B9_7F4A_7C15)
            let u2 = CounterNormal.mix(key ^ (counter &+ 0x5851_F42D_4C95_7F2D) &* 0xA24B_AED4_963E_E407)
            counter &+= 1
            // (0, 1] and [0, 1) with 53 random bits.
            let a = (Double(u1 >> 11) + 1) * 0x1p-53
            let b = Double(u2 >> 11) * 0x1p-53
            let r = (-2 * Foundation.log(a)).squareRoot()
            let angle = 2 * Double.pi * b
            out[i] = r * Foundation.cos(angle)
            if i + 1 < count { out[i + 1] = r * Foundation.sin(angle) }
            i += 2
        }
    }
}
