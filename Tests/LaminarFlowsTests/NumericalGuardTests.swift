import Foundation
import Testing
import LaminarODE
import LaminarFlows
import _LaminarTestSupport

/// Stable formulations at extreme inputs: never NaN.
@Suite struct NumericalGuardTests {
    @Test func logSumExpAndSoftplusAreStableAtExtremes() throws {
        let x = Tensor<Float>(shape: [3, 2], scalars: [1000, 1000, -1000, -1000, 88, -1e30])
        let (lse, grad) = withGradient { () -> (Tensor<Float>, Tensor<Float>) in
            let v = Variable(x, requiresGradient: true)
            let y = v.logSumExp(axes: [1])
            return (y.value, gradients(of: y.sum(), wrt: [v])[0].value)
        }
        #expect(Swift.abs(lse[0] - (1000 + Float.log(2))) < 1e-3)
        #expect(Swift.abs(lse[1] - (-1000 + Float.log(2))) < 1e-3)
        #expect(Swift.abs(lse[2] - 88) < 1e-4)
        #expect(grad.isFinite)
        let sp = withoutGradient { softplus(Variable(Tensor<Float>([1000, -1000, 0, 50]))).value }
        #expect(sp[0] == 1000 && sp[1] >= 0 && sp[1] < 1e-30 && Swift.abs(sp[2] - Float.log(2)) < 1e-6 && sp[3] == 50)
        let spGrad = withGradient { () -> Tensor<Float> in
            let v = Variable(Tensor<Float>([1000, -1000]), requiresGradient: true)
            return gradients(of: softplus(v).sum(), wrt: [v])[0].value
        }
        #expect(spGrad.isFinite && spGrad[0] == 1 && spGrad[1] < 1e-30)
    }

    /// Points far outside the data range get a finite log-density or −∞, never NaN, for every
    /// model family.
    @Test(arguments: ModelSpec.names)
    func logProbabilityFarAwayIsNeverNaN(_ name: String) throws {
        let spec: ModelSpec
        switch name {
        case "planar": spec = .planar(PlanarFlowConfiguration(dimension: 2, depth: 4))
        case "planar-cnf": spec = .planarCNF(PlanarCNFConfiguration(dimension: 2, width: 4, solve: SolveSettings(rtol: 1e-4, atol: 1e-4)))
        case "realnvp": spec = .realNVP(RealNVPConfiguration(dimension: 2, couplings: 4, hidden: [8]))
        default: spec = .ffjord(FFJORDConfiguration(dimension: 2, hidden: [8, 8], solve: SolveSettings(rtol: 1e-4, atol: 1e-4)))
        }
        var rng = RandomGenerator(seed: 1)
        let flow: AnyFlow<Float> = try spec.build(using: &rng)
        for p in flow.parameters { p.assign(p.value + Tensor<Float>.randomNormal(p.shape, using: &rng) * 0.3) }
        let far: [Float] = [30, -30, 1e3, 1e3, -1e6, 2, 1e19, -1e19, 0, 3e38]
        let x = Tensor<Float>(shape: [5, 2], scalars: far)
        let logp = try withoutGradient { try flow.logProbability(Variable(x)).value }
        for i in 0..<5 {
            #expect(!logp[i].isNaN, "\(name): log p(\(far[2 * i]), \(far[2 * i + 1])) is NaN")
        }
        #expect(logp[0].isFinite, "\(name): log p at (30, −30) should be finite, got \(logp[0])")
    }
}
