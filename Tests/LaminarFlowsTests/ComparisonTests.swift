import Foundation
import Testing
import LaminarFlows
import LaminarData
import _LaminarTestSupport

/// Target energies and the comparison runner.
@Suite struct ComparisonTests {
    @Test func eightGaussiansEnergyIsTheDataDensity() throws {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor<Double>.randomNormal([20, 2], using: &rng) * 2
        let e = withoutGradient { TargetEnergy.eightGaussians.energy(Variable(x)).value }
        for i in 0..<20 {
            let truth = ToyDataset.eightGaussians.logDensity(x: x[i, 0], y: x[i, 1])!
            #expect(Swift.abs(-e[i] - truth) < 1e-10)
        }
        // Normalized: log Z ≈ 0.
        #expect(Swift.abs(TargetEnergy.eightGaussians.logNormalizer()) < 1e-3)
    }

    @Test func rezendeEnergiesAtHandComputedPoints() {
        // U1 at (2, 0): ½·0² − log(e⁰ + e^{−½(4/0.6)²}).
        let x = Tensor<Double>(shape: [1, 2], scalars: [2, 0])
        let u1 = withoutGradient { TargetEnergy.u1.energy(Variable(x)).value[0] }
        #expect(Swift.abs(u1 - -Foundation.log(1 + Foundation.exp(-0.5 * (4 / 0.6) * (4 / 0.6)))) < 1e-9)
        // U2 at (1, 1): w1 = sin(π/2) = 1, so U2 = 0.
        let y = Tensor<Double>(shape: [1, 2], scalars: [1, 1])
        #expect(Swift.abs(withoutGradient { TargetEnergy.u2.energy(Variable(y)).value[0] }) < 1e-12)
        // U4 at (1, 1): w3 = 3σ(0) = 1.5; −log(e⁰ + e^{−½(1.5/0.35)²}).
        let u4 = withoutGradient { TargetEnergy.u4.energy(Variable(y)).value[0] }
        #expect(Swift.abs(u4 - -Foundation.log(1 + Foundation.exp(-0.5 * (1.5 / 0.35) * (1.5 / 0.35)))) < 1e-9)
    }

    @Test func energyGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 6)
        let x = Tensor<Double>.randomNormal([6, 2], using: &rng) * 1.5
        for target in TargetEnergy.allCases {
            let r = checkGradient({ target.energy($0[0]) }, at: [x])
            #expect(r.maxError < 1e-6, "\(target): \(r)")
        }
    }

    /// The reverse-KL estimate is exact when the model is the target: a fresh Real NVP is the
    /// identity, i.e. N(0, I), and KL(N(0, I) ‖ N(0, I)) = 0 for any samples.
    @Test func klOfTheTargetItselfIsZero() throws {
        var rng = RandomGenerator(seed: 1)
        let flow: AnyFlow<Double> = try ModelSpec.realNVP(RealNVPConfiguration(dimension: 2, couplings: 2, hidden: [4]))
            .build(using: &rng)
        let x = Variable(Tensor<Double>.randomNormal([50, 2], using: &rng))
        // E for N(0, I): ½|x|² + log 2π, which the identity model's log q cancels exactly.
        let logQ = try withoutGradient { try flow.logProbability(x).value }
        let e = withoutGradient { (square(x).sum(axes: [1]) * 0.5 + Foundation.log(2 * Double.pi)).value }
        #expect(maxAbsDifference(logQ + e, Tensor(zeros: [50])) < 1e-12)
    }

    @Test func matchingSpecsHaveCloseParameterCounts() throws {
        for family in ["realnvp", "ffjord"] {
            let spec = try Comparison.matchingSpec(family, parameters: 8_512)
            var rng = RandomGenerator(seed: 0)
            let flow: AnyFlow<Float> = try spec.build(using: &rng)
            #expect(Swift.abs(flow.parameterCount - 8_512) < 800, "\(family): \(flow.parameterCount)")
        }
        #expect(throws: FlowError.self) { try Comparison.matchingSpec("glow", parameters: 100) }
    }
}
