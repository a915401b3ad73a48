import Testing
import LaminarODE
import LaminarFlows
import _LaminarTestSupport

/// Log-determinants, inverses, normalization and gradients of the discrete flows and the
/// planar CNF, in Double.
@Suite struct DiscreteFlowTests {
    /// A planar flow whose parameters are random enough to bend the plane visibly.
    func makePlanar(depth: Int = 4, seed: UInt64 = 3) throws -> PlanarFlow<Double> {
        var rng = RandomGenerator(seed: seed)
        let flow = try PlanarFlow<Double>(PlanarFlowConfiguration(dimension: 2, depth: depth), using: &rng)
        randomize(flow, scale: 1.0, seed: seed)
        return flow
    }

    func makeRealNVP(actnorm: Bool = false, seed: UInt64 = 4) throws -> RealNVP<Double> {
        var rng = RandomGenerator(seed: seed)
        let flow = try RealNVP<Double>(
            RealNVPConfiguration(dimension: 2, couplings: 4, hidden: [16, 16], actnorm: actnorm), using: &rng)
        randomize(flow, scale: 0.3, seed: seed)
        return flow
    }

    func makePlanarCNF(width: Int = 8, gradient: GradientMethod = .adjoint, seed: UInt64 = 5) throws -> PlanarCNF<Double> {
        var rng = RandomGenerator(seed: seed)
        return try PlanarCNF<Double>(
            PlanarCNFConfiguration(
                dimension: 2, width: width, timeLength: 1, solve: SolveSettings(rtol: 1e-9, atol: 1e-9, gradient: gradient)),
            using: &rng)
    }

    /// Replaces every parameter with `scale · N(0, 1)` noise (a fresh Real NVP is the identity).
    func randomize<F: Flow>(_ flow: F, scale: Double, seed: UInt64) where F.Scalar == Double {
        var rng = RandomGenerator(seed: seed &+ 100)
        for p in flow.parameters {
            p.assign(Tensor<Double>.randomNormal(p.shape, using: &rng) * scale)
        }
    }

    /// `log|det ∂out/∂in|` of one row from the autodiff Jacobian of a 2-D map.
    func logAbsDetJacobian(_ map: (Variable<Double>) -> Variable<Double>, at x: Tensor<Double>) -> Double {
        let j = jacobian(of: map, at: x)  // [1, 2, 1, 2]
        return Double.log(Swift.abs(j[0, 0, 0, 0] * j[0, 1, 0, 1] - j[0, 0, 0, 1] * j[0, 1, 0, 0]))
    }

    func checkDirections<F: Flow>(_ flow: F, tolerance: Double) throws where F.Scalar == Double {
        var rng = RandomGenerator(seed: 17)
        let x = Tensor<Double>.randomNormal([6, 2], using: &rng) * 1.5
        let fwd = try withoutGradient { try flow.forward(Variable(x)) }
        let back = try withoutGradient { try flow.inverse(fwd.value) }
        #expect(maxAbsDifference(back.value.value, x) < tolerance, "\(F.self): inverse∘forward ≠ identity")
        #expect(
            maxAbsDifference(fwd.logDeterminant.value + back.logDeterminant.value, Tensor(zeros: [6])) < tolerance,
            "\(F.self): log-determinants of the two directions do not cancel")
        for row in 0..<6 {
            let xi = x.slice(axis: 0, row..<(row + 1))
            let forwardLD = logAbsDetJacobian({ (try? flow.forward($0).value) ?? $0 }, at: xi)
            #expect(Swift.abs(forwardLD - fwd.logDeterminant.value[row]) < tolerance, "\(F.self) forward row \(row)")
            let zi = fwd.value.value.slice(axis: 0, row..<(row + 1))
            let inverseLD = logAbsDetJacobian({ (try? flow.inverse($0).value) ?? $0 }, at: zi)
            #expect(Swift.abs(inverseLD - back.logDeterminant.value[row]) < tolerance, "\(F.self) inverse row \(row)")
        }
    }

    @Test func planarLogDeterminantsMatchAutodiffAndInverseIsExact() throws {
        try checkDirections(try makePlanar(), tolerance: 1e-9)
    }

    @Test func realNVPLogDeterminantsMatchAutodiffAndInverseIsExact() throws {
        try checkDirections(try makeRealNVP(), tolerance: 1e-10)
        try checkDirections(try makeRealNVP(actnorm: true), tolerance: 1e-10)
    }

    @Test func planarCNFTraceIsTheJacobianTrace() throws {
        let model = try makePlanarCNF()
        let field = model.block.field
        var rng = RandomGenerator(seed: 8)
        let z = Tensor<Double>.randomNormal([5, 2], using: &rng)
        let t = Variable(Tensor<Double>(0.4))
        let closed = field.valueAndDivergence(t, Variable(z))!
        #expect(maxAbsDifference(closed.f.value, field(t, Variable(z)).value) < 1e-14)
        for row in 0..<5 {
            let j = jacobian(of: { field(t, $0) }, at: z.slice(axis: 0, row..<(row + 1)))
            #expect(Swift.abs(closed.trace.value[row, 0] - (j[0, 0, 0, 0] + j[0, 1, 0, 1])) < 1e-12)
        }
        try checkDirections(model, tolerance: 1e-6)
    }

    @Test func densitiesIntegrateToOne() throws {
        // [-7, 7]² at 140² cells: the midpoint rule and the tails cost well under 0.02.
        let flows: [AnyFlow<Double>] = [
            AnyFlow(try makePlanar()), AnyFlow(try makeRealNVP()), AnyFlow(try makeRealNVP(actnorm: true)),
            AnyFlow(try makePlanarCNF()),
        ]
        for flow in flows {
            let grid = try DensityGrid.evaluate(flow, low: -7, high: 7, resolution: 140, batchSize: 4900)
            #expect(Swift.abs(grid.totalMass - 1) < 0.02, "\(type(of: flow.base)): mass \(grid.totalMass)")
        }
    }

    /// The planar flow's likelihood goes through a root solve; its parameter gradient (one
    /// recorded Newton step, i.e. the implicit-function gradient) must match finite differences.
    @Test func planarLikelihoodGradientMatchesFiniteDifferences() throws {
        let flow = try makePlanar(depth: 3)
        var rng = RandomGenerator(seed: 12)
        let x = Tensor<Double>.randomNormal([10, 2], using: &rng)
        try expectGradientsMatchFiniteDifferences(flow, x: x, tolerance: 1e-6)
    }

    @Test func realNVPLikelihoodGradientMatchesFiniteDifferences() throws {
        let flow = try makeRealNVP(actnorm: true)
        var rng = RandomGenerator(seed: 13)
        let x = Tensor<Double>.randomNormal([10, 2], using: &rng)
        try expectGradientsMatchFiniteDifferences(flow, x: x, tolerance: 1e-6)
    }

    func expectGradientsMatchFiniteDifferences<F: Flow>(_ flow: F, x: Tensor<Double>, tolerance: Double) throws
    where F.Scalar == Double {
        func loss() throws -> Double {
            try withoutGradient { -(try flow.logProbability(Variable(x))).mean().value.scalar }
        }
        let analytic = try withGradient { () throws -> [Tensor<Double>] in
            let l = -(try flow.logProbability(Variable(x))).mean()
            return gradients(of: l, wrt: flow.parameters).map(\.value)
        }
        let h = 1e-6
        var worst = 0.0
        for (p, g) in zip(flow.parameters, analytic) {
            for k in 0..<p.count {
                let original = p.value.scalars[k]
                p.update { $0.withUnsafeMutableBufferPointer { $0[k] = original + h } }
                let up = try loss()
                p.update { $0.withUnsafeMutableBufferPointer { $0[k] = original - h } }
                let down = try loss()
                p.update { $0.withUnsafeMutableBufferPointer { $0[k] = original } }
                let numeric = (up - down) / (2 * h)
                worst = Swift.max(worst, Swift.abs(numeric - g.scalars[k]) / Swift.max(1, Swift.abs(numeric)))
            }
        }
        #expect(worst < tolerance, "\(F.self): worst relative gradient error \(worst)")
    }
}
