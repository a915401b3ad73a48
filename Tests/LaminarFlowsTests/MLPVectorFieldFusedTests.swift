import Testing
import LaminarFlows
import LaminarODE
import LaminarNN
import _LaminarTestSupport

/// The graph-free CNF dynamics (`MLPVectorField+Fused.swift`) against the recorded graph they replace,
/// in Double: the augmented right-hand side and the adjoint's pullback, for every activation,
/// time conditioning, residual or not, both estimators, with and without the kinetic state.
@Suite struct FusedDynamicsTests {
    struct Case: CustomStringConvertible {
        var activation: String
        var layerType: ODENetLayerType
        var residual: Bool
        var exact: Bool
        var kinetic: Bool
        var description: String {
            "\(activation) \(layerType) residual=\(residual) \(exact ? "exact" : "hutchinson") kinetic=\(kinetic)"
        }
    }

    static let cases: [Case] = Activation.allNames.flatMap { activation in
        ODENetLayerType.allCases.flatMap { layerType in
            [false, true].flatMap { residual in
                [false, true].flatMap { exact in
                    [false, true].map { kinetic in
                        Case(activation: activation, layerType: layerType, residual: residual, exact: exact, kinetic: kinetic)
                    }
                }
            }
        }
    }

    func makeDynamics(_ c: Case, seed: UInt64, jacobian: Bool = false) throws -> (CNFDynamics<Double>, [Tensor<Double>]) {
        var rng = RandomGenerator(seed: seed)
        let net = try MLPVectorField<Double>(
            dimension: 3, hidden: [5, 4], layerType: c.layerType, activation: c.activation, residual: c.residual,
            using: &rng)
        let n = 6
        let noise = Tensor<Double>.randomNormal([n, 3], using: &rng)
        let dynamics = CNFDynamics(
            net: net, trace: c.exact ? .exact : .hutchinson(noise: noise), kinetic: c.kinetic, jacobian: jacobian)
        var y = [Tensor<Double>.randomNormal([n, 3], using: &rng), Tensor(zeros: [n, 1])]
        if c.kinetic { y.append(Tensor(zeros: [n, 1])) }
        return (dynamics, y)
    }

    @Test(arguments: cases)
    func fusedMatchesGraph(_ c: Case) throws {
        let (dynamics, y) = try makeDynamics(c, seed: 11)
        let t = 0.37
        let fused = dynamics.evaluate(t, y)
        let graph = dynamics.graphEvaluate(t, y)
        #expect(fused.count == graph.count)
        for (a, b) in zip(fused, graph) {
            #expect(isClose(a, b, rtol: 1e-12, atol: 1e-12), "\(c): value \(maxAbsDifference(a, b))")
        }

        var rng = RandomGenerator(seed: 21)
        let seeds = y.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
        let parameters = dynamics.parameters
        let p = dynamics.pullback(t, y, seeds: seeds, parameters: parameters)
        let q = dynamics.graphPullback(t, y, seeds: seeds, parameters: parameters)
        for (a, b) in zip(p.value, q.value) {
            #expect(isClose(a, b, rtol: 1e-12, atol: 1e-12), "\(c): pullback value")
        }
        #expect(p.stateGradients.count == q.stateGradients.count)
        for (a, b) in zip(p.stateGradients, q.stateGradients) {
            #expect(isClose(a, b, rtol: 1e-10, atol: 1e-12), "\(c): state gradient \(maxAbsDifference(a, b))")
        }
        #expect(p.parameterGradients.count == parameters.count)
        for (i, (a, b)) in zip(p.parameterGradients, q.parameterGradients).enumerated() {
            #expect(a.shape == b.shape)
            #expect(isClose(a, b, rtol: 1e-10, atol: 1e-12), "\(c): parameter \(i) \(maxAbsDifference(a, b))")
        }
    }

    /// With two threads the batch splits into row blocks evaluated concurrently; values and
    /// gradients agree with the graph (and with one block) to rounding.
    @Test(arguments: [false, true])
    func rowBlocksAgreeWithOneBlock(exact: Bool) throws {
        let c = Case(activation: "softplus", layerType: .concatsquash, residual: true, exact: exact, kinetic: true)
        var rng = RandomGenerator(seed: 12)
        let net = try MLPVectorField<Double>(
            dimension: 2, hidden: [16, 16], layerType: .concatsquash, activation: c.activation, residual: true, using: &rng)
        let n = 300
        let noise: Tensor<Double> = HutchinsonNoise.rademacher.draw([n, 2], using: &rng)
        let dynamics = CNFDynamics(net: net, trace: exact ? .exact : .hutchinson(noise: noise), kinetic: true)
        let y = [Tensor<Double>.randomNormal([n, 2], using: &rng), Tensor(zeros: [n, 1]), Tensor(zeros: [n, 1])]
        let seeds = y.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
        #expect(RowParallel.$threadCount.withValue(2) { RowParallel.blocks(rows: n).count } == 2)
        let one = RowParallel.$threadCount.withValue(1) {
            (dynamics.evaluate(0.3, y), dynamics.pullback(0.3, y, seeds: seeds, parameters: dynamics.parameters))
        }
        let two = RowParallel.$threadCount.withValue(2) {
            (dynamics.evaluate(0.3, y), dynamics.pullback(0.3, y, seeds: seeds, parameters: dynamics.parameters))
        }
        let graph = dynamics.graphPullback(0.3, y, seeds: seeds, parameters: dynamics.parameters)
        for (a, b) in zip(two.0, one.0) { #expect(isClose(a, b, rtol: 1e-13, atol: 1e-14)) }
        for (a, b) in zip(two.1.value, graph.value) { #expect(isClose(a, b, rtol: 1e-12, atol: 1e-13)) }
        for (a, b) in zip(two.1.stateGradients + two.1.parameterGradients, graph.stateGradients + graph.parameterGradients) {
            #expect(isClose(a, b, rtol: 1e-10, atol: 1e-12), "\(maxAbsDifference(a, b))")
        }
        for (a, b) in zip(two.1.parameterGradients, one.1.parameterGradients) { #expect(isClose(a, b, rtol: 1e-12, atol: 1e-13)) }
    }

    /// A subset of the parameters (frozen layers) gets exactly its own gradients, in order.
    @Test func pullbackHonoursTheRequestedParameters() throws {
        let c = Case(activation: "tanh", layerType: .concatsquash, residual: false, exact: false, kinetic: false)
        let (dynamics, y) = try makeDynamics(c, seed: 4)
        var rng = RandomGenerator(seed: 8)
        let seeds = y.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
        let subset = [dynamics.parameters[3], dynamics.parameters[0]]
        let p = dynamics.pullback(0.1, y, seeds: seeds, parameters: subset)
        let q = dynamics.graphPullback(0.1, y, seeds: seeds, parameters: subset)
        #expect(p.parameterGradients.count == 2)
        for (a, b) in zip(p.parameterGradients, q.parameterGradients) {
            #expect(isClose(a, b, rtol: 1e-10, atol: 1e-12))
        }
    }

    /// The Jacobian regularizer has no fused form: the dynamics fall back to the graph (and
    /// still count their evaluations).
    @Test func jacobianRegularizerFallsBackToTheGraph() throws {
        let c = Case(activation: "tanh", layerType: .concatsquash, residual: false, exact: false, kinetic: true)
        let (dynamics, y0) = try makeDynamics(c, seed: 5, jacobian: true)
        let y = y0 + [Tensor<Double>(zeros: [6, 1])]
        dynamics.resetEvaluations()
        let out = dynamics.evaluate(0.2, y)
        #expect(out.count == 4)
        #expect(dynamics.evaluations == 1)
        for (a, b) in zip(out, dynamics.graphEvaluate(0.2, y)) { #expect(isClose(a, b, rtol: 1e-14, atol: 0)) }
    }
}
