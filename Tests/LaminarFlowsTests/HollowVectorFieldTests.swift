import Foundation
import Testing
@testable import LaminarFlows
import LaminarNN
import LaminarODE
import _LaminarTestSupport

/// The HollowNet field (`HollowVectorField.swift`, `+Fused.swift`) in Double: the conditioner's
/// Jacobian is hollow, the one-extra-pass divergence equals the d-VJP exact trace and the full
/// Jacobian's trace, and the graph-free passes equal the recorded graph.
@Suite struct HollowVectorFieldTests {
    struct Case: CustomStringConvertible {
        var activation: String
        var layerType: ODENetLayerType
        var hidden: [Int]
        var kinetic: Bool
        var description: String { "\(activation) \(layerType) \(hidden) kinetic=\(kinetic)" }
    }

    static let cases: [Case] = Activation.allNames.filter { $0 != "identity" }.flatMap { activation in
        ODENetLayerType.allCases.map { layerType in
            Case(activation: activation, layerType: layerType, hidden: [3, 2], kinetic: activation == "tanh")
        }
    } + [
        Case(activation: "softplus", layerType: .concatsquash, hidden: [2], kinetic: true),
        Case(activation: "tanh", layerType: .concatsquash, hidden: [3, 2, 2], kinetic: false),
    ]

    func makeField(_ c: Case, dimension: Int = 4, seed: UInt64 = 7) throws -> HollowVectorField<Double> {
        var rng = RandomGenerator(seed: seed)
        return try HollowVectorField<Double>(
            dimension: dimension, hidden: c.hidden, layerType: c.layerType, activation: c.activation, using: &rng)
    }

    /// ∂h_u/∂z_{g(u)} = 0 exactly for every conditioner unit u of group g(u), at random points
    /// and times, while the other entries are not all zero (so the check has something to find).
    @Test(arguments: [[3], [3, 2], [2, 2, 3]])
    func conditionerJacobianIsHollow(hidden: [Int]) throws {
        let c = Case(activation: "tanh", layerType: .concatsquash, hidden: hidden, kinetic: false)
        let d = 4
        let field = try makeField(c, dimension: d)
        let k = hidden.last!
        var rng = RandomGenerator(seed: 3)
        var offDiagonal = 0.0
        for trial in 0..<3 {
            let z = Tensor<Double>.randomNormal([1, d], using: &rng)
            let t = Variable(Tensor<Double>(0.2 + 0.3 * Double(trial)))
            let jac = jacobian(of: { field.graphPass(t, $0).conditioner }, at: z)  // [1, d·k, 1, d]
            for u in 0..<(d * k) {
                for j in 0..<d {
                    let entry = jac[0, u, 0, j]
                    if u / k == j {
                        #expect(entry == 0, "unit \(u) depends on its own coordinate: \(entry)")
                    } else {
                        offDiagonal = Swift.max(offDiagonal, Swift.abs(entry))
                    }
                }
            }
        }
        #expect(offDiagonal > 1e-3)
    }

    /// The one-extra-pass divergence (graph and graph-free) equals the d-VJP exact trace and the
    /// trace of the full Jacobian, to rounding.
    @Test(arguments: cases)
    func cheapDivergenceEqualsExactTrace(_ c: Case) throws {
        let field = try makeField(c)
        var rng = RandomGenerator(seed: 5)
        let n = 5, d = 4
        let z = Tensor<Double>.randomNormal([n, d], using: &rng)
        let t = Variable(Tensor<Double>(0.37))
        let (f, cheap) = withGradient { () -> (Tensor<Double>, Tensor<Double>) in
            let out = field.valueAndDivergence(t, Variable(z, requiresGradient: true))!
            return (out.f.value, out.trace.value)
        }
        // d vector–Jacobian products, one per unit seed (what `--trace exact` costs for the MLP field).
        let viaVJPs = withGradient { () -> Tensor<Double> in
            let zz = Variable(z, requiresGradient: true)
            let out = field(t, zz)
            var trace = Tensor<Double>(zeros: [n, 1])
            for i in 0..<d {
                let seed = Tensor<Double>(shape: [n, d], scalars: (0..<(n * d)).map { $0 % d == i ? 1 : 0 })
                let row = gradients(of: [out], wrt: [zz], seeds: [Variable(seed)])[0].value
                trace += row.slice(axis: 1, i..<(i + 1))
            }
            return trace
        }
        #expect(isClose(cheap, viaVJPs, rtol: 1e-10, atol: 1e-12), "\(c): \(maxAbsDifference(cheap, viaVJPs))")
        let fused = field.fusedDerivatives(0.37, z, probes: .exact(dimension: d), kinetic: false)!
        #expect(isClose(fused[0], f, rtol: 1e-12, atol: 1e-13))
        #expect(isClose(-fused[1], viaVJPs, rtol: 1e-10, atol: 1e-12), "\(c): fused \(maxAbsDifference(-fused[1], viaVJPs))")
        for row in 0..<2 {
            let jac = jacobian(of: { field(t, $0) }, at: z.slice(axis: 0, row..<(row + 1)))
            let trace = (0..<d).reduce(0.0) { $0 + jac[0, $1, 0, $1] }
            #expect(Swift.abs(trace - cheap[row, 0]) < 1e-10 * Swift.max(1, Swift.abs(trace)))
        }
    }

    /// The graph-free right-hand side and the adjoint's pullback equal the recorded graph (CNF
    /// dynamics with the exact trace), values, state and every parameter gradient.
    @Test(arguments: cases)
    func fusedPassesMatchGraph(_ c: Case) throws {
        let field = try makeField(c, seed: 11)
        let dynamics = CNFDynamics(net: field, trace: .exact, kinetic: c.kinetic)
        var rng = RandomGenerator(seed: 13)
        let n = 6
        var y = [Tensor<Double>.randomNormal([n, 4], using: &rng), Tensor(zeros: [n, 1])]
        if c.kinetic { y.append(Tensor(zeros: [n, 1])) }
        let t = 0.41
        let fused = dynamics.evaluate(t, y)
        let graph = dynamics.graphEvaluate(t, y)
        #expect(fused.count == graph.count)
        for (a, b) in zip(fused, graph) {
            #expect(isClose(a, b, rtol: 1e-12, atol: 1e-12), "\(c): value \(maxAbsDifference(a, b))")
        }
        let seeds = y.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
        let parameters = dynamics.parameters
        let p = dynamics.pullback(t, y, seeds: seeds, parameters: parameters)
        let q = dynamics.graphPullback(t, y, seeds: seeds, parameters: parameters)
        for (a, b) in zip(p.value, q.value) { #expect(isClose(a, b, rtol: 1e-12, atol: 1e-12)) }
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

    /// Two row blocks (two threads) give the graph's values and gradients.
    @Test func rowBlocksAgreeWithGraph() throws {
        let c = Case(activation: "softplus", layerType: .concatsquash, hidden: [4, 4], kinetic: true)
        let field = try makeField(c, dimension: 3, seed: 2)
        let dynamics = CNFDynamics(net: field, trace: .exact, kinetic: true)
        var rng = RandomGenerator(seed: 4)
        let n = 300
        let y = [Tensor<Double>.randomNormal([n, 3], using: &rng), Tensor(zeros: [n, 1]), Tensor(zeros: [n, 1])]
        let seeds = y.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
        #expect(RowParallel.$threadCount.withValue(2) { RowParallel.blocks(rows: n).count } == 2)
        let two = RowParallel.$threadCount.withValue(2) {
            dynamics.pullback(0.3, y, seeds: seeds, parameters: dynamics.parameters)
        }
        let graph = dynamics.graphPullback(0.3, y, seeds: seeds, parameters: dynamics.parameters)
        for (a, b) in zip(two.value + two.stateGradients + two.parameterGradients, graph.value + graph.stateGradients + graph.parameterGradients) {
            #expect(isClose(a, b, rtol: 1e-10, atol: 1e-12), "\(maxAbsDifference(a, b))")
        }
    }

    /// End to end: the log-determinant an FFJORD model with the hollow field integrates equals
    /// log|det| of the finite-difference Jacobian of its transport map (tight tolerances).
    @Test func flowLogDeterminantMatchesJacobianOfTransport() throws {
        var rng = RandomGenerator(seed: 1)
        let config = FFJORDConfiguration(
            dimension: 3, hidden: [4, 4], timeLength: 0.8, trainTime: false,
            solve: SolveSettings(rtol: 1e-11, atol: 1e-11), field: "hollow")
        let model = try FFJORD<Double>(config, using: &rng)
        let x = Tensor<Double>.randomNormal([1, 3], using: &rng)
        let out = try withoutGradient { try model.forward(Variable(x)) }
        let h = 1e-5
        var columns: [[Double]] = []
        for j in 0..<3 {
            var plus = x.scalars, minus = x.scalars
            plus[j] += h
            minus[j] -= h
            let zp = try withoutGradient { try model.forward(Variable(Tensor(shape: [1, 3], scalars: plus))).value.value.scalars }
            let zm = try withoutGradient { try model.forward(Variable(Tensor(shape: [1, 3], scalars: minus))).value.value.scalars }
            columns.append((0..<3).map { (zp[$0] - zm[$0]) / (2 * h) })
        }
        let m = columns  // m[j][i] = ∂z_i/∂x_j; the determinant is transpose-invariant
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        #expect(Swift.abs(Foundation.log(Swift.abs(det)) - out.logDeterminant.value[0]) < 1e-7)
        #expect(Swift.abs(out.logDeterminant.value[0]) > 1e-3)
    }

    /// Old checkpoints (no `field`) load as the MLP field; the hollow field refuses Hutchinson
    /// training, the residual form and the Jacobian regularizer, naming the setting.
    @Test func configurationDefaultsAndErrors() throws {
        let old = #"{"activation":"tanh","atol":1e-05,"blocks":1,"dimension":2,"gradient":"adjoint","hidden":[64,64,64],"jacobianWeight":0,"kineticWeight":0,"layerType":"concatsquash","method":"dopri5","residual":false,"rtol":1e-05,"timeLength":0.5,"trace":"exact","trainTime":true}"#
        let spec = try ModelSpec(name: "ffjord", json: old)
        guard case .ffjord(let c) = spec else { Issue.record("not ffjord"); return }
        #expect(c.field == "mlp")
        let hollow = FFJORDConfiguration(dimension: 64, field: "hollow")
        #expect(hollow.trace == "exact")
        let roundTrip = try ModelSpec(name: "ffjord", json: try ModelSpec.ffjord(hollow).jsonString())
        #expect(roundTrip == .ffjord(hollow))
        for bad in [
            FFJORDConfiguration(dimension: 2, trace: "hutchinson-gaussian", field: "hollow"),
            FFJORDConfiguration(dimension: 2, residual: true, field: "hollow"),
            FFJORDConfiguration(dimension: 2, jacobianWeight: 0.1, field: "hollow"),
            FFJORDConfiguration(dimension: 2, field: "dense"),
        ] {
            #expect(throws: FlowError.self) { try bad.validate() }
        }
    }
}
