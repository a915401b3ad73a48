import Testing
import LaminarFlows
import LaminarODE
import _LaminarTestSupport

/// Properties of CNF blocks and FFJORD models, in Double so that solver tolerances (not
/// rounding) set the accuracy.
@Suite struct CNFTests {
    func makeModel(
        hidden: [Int] = [16, 16], trace: String = "exact", gradient: GradientMethod = .adjoint, seed: UInt64 = 3,
        rtol: Double = 1e-8, atol: Double = 1e-8, kinetic: Double = 0, jacobian: Double = 0
    ) throws -> FFJORD<Double> {
        var rng = RandomGenerator(seed: seed)
        let config = FFJORDConfiguration(
            dimension: 2, hidden: hidden, timeLength: 0.5, trainTime: true, trace: trace,
            solve: SolveSettings(rtol: rtol, atol: atol, gradient: gradient), kineticWeight: kinetic, jacobianWeight: jacobian)
        return try FFJORD<Double>(config, using: &rng)
    }

    @Test func exactTraceEqualsJacobianTrace() throws {
        let model = try makeModel()
        let net = model.blocks[0].field
        var rng = RandomGenerator(seed: 5)
        let z = Tensor<Double>.randomNormal([4, 2], using: &rng)
        let t = Variable(Tensor<Double>(0.3))
        let dyn = model.blocks[0].dynamics(trace: .exact)
        let out = dyn(t, [Variable(z), Variable(Tensor<Double>(zeros: [4, 1]))])
        for row in 0..<4 {
            let x = z.slice(axis: 0, row..<(row + 1))
            let jac = jacobian(of: { net(t, $0) }, at: x)  // [1, 2, 1, 2]
            let trace = jac[0, 0, 0, 0] + jac[0, 1, 0, 1]
            // dΔ/dt = −tr(∂f/∂z); both are exact up to rounding.
            #expect(Swift.abs(-out[1].value[row, 0] - trace) < 1e-12)
        }
    }

    @Test func hutchinsonMeanMatchesExactTrace() throws {
        let model = try makeModel()
        let block = model.blocks[0]
        var rng = RandomGenerator(seed: 9)
        let z = Tensor<Double>.randomNormal([1, 2], using: &rng)
        let t = Variable(Tensor<Double>(0.2))
        let exact = -block.dynamics(trace: .exact)(t, [Variable(z), Variable(Tensor<Double>(zeros: [1, 1]))])[1].value.scalar
        for noise in [HutchinsonNoise.gaussian, .rademacher] {
            var samples: [Double] = []
            for _ in 0..<4000 {
                let dyn = block.dynamics(trace: TraceEstimator.hutchinson(noise).draw(rows: 1, dimension: 2, using: &rng))
                samples.append(-dyn(t, [Variable(z), Variable(Tensor<Double>(zeros: [1, 1]))])[1].value.scalar)
            }
            let mean = samples.reduce(0, +) / Double(samples.count)
            let sd = (samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count - 1)).squareRoot()
            let stderr = sd / Double(samples.count).squareRoot()
            // Unbiased estimator: the mean lies within 4 standard errors of the exact trace
            // (a false failure has probability ≈ 6e-5).
            #expect(Swift.abs(mean - exact) <= 4 * stderr + 1e-12, "\(noise): mean \(mean) exact \(exact) se \(stderr)")
        }
    }

    /// `estimatedForward` uses the configured estimator: with `exact` it is `forward` and draws
    /// no noise; with Hutchinson it draws that kind of noise from the caller's generator.
    @Test func estimatedForwardHonoursTheConfiguredEstimator() throws {
        var rng = RandomGenerator(seed: 6)
        let x = Tensor<Double>.randomNormal([5, 2], using: &rng)
        let exactModel = try makeModel(trace: "exact")
        var untouched = RandomGenerator(seed: 17)
        let estimated = try withoutGradient { try exactModel.estimatedForward(Variable(x), using: &untouched) }
        let exact = try withoutGradient { try exactModel.forward(Variable(x)) }
        #expect(estimated.logDeterminant.value == exact.logDeterminant.value)
        var fresh = RandomGenerator(seed: 17)
        #expect(untouched.next() == fresh.next(), "the exact estimator must not draw noise")

        for kind in [HutchinsonNoise.gaussian, .rademacher] {
            let model = try makeModel(trace: TraceEstimator.hutchinson(kind).name)
            var drawn = RandomGenerator(seed: 23)
            let out = try withoutGradient { try model.estimatedForward(Variable(x), using: &drawn) }
            var replay = RandomGenerator(seed: 23)
            let trace: DrawnTraceEstimator<Double> = TraceEstimator.hutchinson(kind).draw(rows: 5, dimension: 2, using: &replay)
            let expected = try withoutGradient { try model.blocks[0].run(Variable(x), reverse: false, trace: trace) }
            // Same noise, same solve: equal to rounding; an estimator of the other kind (or the
            // exact trace) would differ by the estimator's spread, ~0.1 here.
            #expect(maxAbsDifference(out.logDeterminant.value, -expected.deltaLogP.value.reshaped([-1])) < 1e-12, "\(kind)")
            #expect(maxAbsDifference(out.logDeterminant.value, exact.logDeterminant.value) > 1e-6, "\(kind)")
        }
    }

    @Test func forwardThenInverseReturnsInput() throws {
        let model = try makeModel()
        var rng = RandomGenerator(seed: 1)
        let x = Tensor<Double>.randomNormal([16, 2], using: &rng)
        let fwd = try withoutGradient { try model.forward(Variable(x)) }
        let back = try withoutGradient { try model.inverse(fwd.value) }
        // Two solves at rtol = atol = 1e-8: the round trip error stays within ~100× that.
        #expect(maxAbsDifference(back.value.value, x) < 1e-6)
        // log-determinants of the two directions cancel.
        #expect(maxAbsDifference(fwd.logDeterminant.value + back.logDeterminant.value, Tensor(zeros: [16])) < 1e-6)
    }

    @Test func densityIntegratesToOne() throws {
        let model = try makeModel(rtol: 1e-6, atol: 1e-6)
        // A random CNF moves mass little beyond the standard normal's support; [-6, 6]² holds
        // all but ~1e-8 of N(0, I). Midpoint rule on 120² cells: error well below 0.02.
        let grid = try DensityGrid.evaluate(model, low: -6, high: 6, resolution: 120, batchSize: 3600)
        #expect(Swift.abs(grid.totalMass - 1) < 0.02, "mass \(grid.totalMass)")
    }

    @Test func gradientsAgreeAcrossGradientMethods() throws {
        var rng = RandomGenerator(seed: 21)
        let x = Tensor<Double>.randomNormal([8, 2], using: &rng)
        var results: [String: [Tensor<Double>]] = [:]
        for method in ["backprop", "adjoint", "checkpointed"] {
            let model = try makeModel(gradient: try #require(GradientMethod(name: method)), rtol: 1e-9, atol: 1e-9, kinetic: 0.1, jacobian: 0.1)
            var noiseRNG = RandomGenerator(seed: 4)
            let grads = try withGradient { () throws -> [Tensor<Double>] in
                let loss = try model.trainingLoss(Variable(x), using: &noiseRNG).loss
                return gradients(of: loss, wrt: model.parameters).map(\.value)
            }
            results[method] = grads
        }
        for method in ["adjoint", "checkpointed"] {
            for (a, b) in zip(results[method]!, results["backprop"]!) {
                // Adjoint: continuous gradient at tolerance 1e-9 vs discrete gradient → ~1e-6.
                // Checkpointed: the same discrete gradient as backprop up to rounding.
                let tol = method == "adjoint" ? 1e-5 : 1e-9
                #expect(closeness(a, b, rtol: tol, atol: tol) <= 1, "\(method) vs backprop")
            }
        }
    }

    /// FFJORD's `residual` option: the field is `net − z`, and the divergence carries the −d.
    @Test func residualDynamicsSubtractTheStateAndItsTrace() throws {
        var rng = RandomGenerator(seed: 3)
        let plain = try FFJORD<Double>(FFJORDConfiguration(dimension: 2, hidden: [8]), using: &rng)
        rng = RandomGenerator(seed: 3)
        let residual = try FFJORD<Double>(FFJORDConfiguration(dimension: 2, hidden: [8], residual: true), using: &rng)
        let z = Tensor<Double>.randomNormal([3, 2], using: &rng)
        let t = Variable(Tensor<Double>(0.1))
        let zero = Variable(Tensor<Double>(zeros: [3, 1]))
        let a = plain.blocks[0].dynamics(trace: .exact)(t, [Variable(z), zero])
        let b = residual.blocks[0].dynamics(trace: .exact)(t, [Variable(z), zero])
        #expect(maxAbsDifference(b[0].value, a[0].value - z) < 1e-14)
        #expect(maxAbsDifference(b[1].value, a[1].value + 2) < 1e-12)  // −tr(J − I) = −tr J + d
    }

    /// Checkpoints written before the `residual` field existed still load.
    @Test func configurationWithoutResidualFieldDecodes() throws {
        let json = #"{"activation":"tanh","atol":1e-05,"blocks":1,"dimension":2,"gradient":"adjoint","hidden":[64,64,64],"jacobianWeight":0,"kineticWeight":0,"layerType":"concatsquash","method":"dopri5","rtol":1e-05,"timeLength":0.5,"trace":"exact","trainTime":true}"#
        let spec = try ModelSpec(name: "ffjord", json: json)
        #expect(spec == .ffjord(FFJORDConfiguration(dimension: 2)))
    }

    /// The typed solve settings encode as the same flat keys: a configuration with default
    /// settings writes exactly the JSON of checkpoints from before ``SolveSettings``.
    @Test func solveSettingsKeepTheCheckpointFormat() throws {
        let old = #"{"activation":"tanh","atol":1e-05,"blocks":1,"dimension":2,"gradient":"adjoint","hidden":[64,64,64],"jacobianWeight":0,"kineticWeight":0,"layerType":"concatsquash","method":"dopri5","residual":false,"rtol":1e-05,"timeLength":0.5,"trace":"exact","trainTime":true}"#
        #expect(try ModelSpec.ffjord(FFJORDConfiguration(dimension: 2)).jsonString() == old)
        let custom = FFJORDConfiguration(
            dimension: 2, solve: SolveSettings(method: .tsit5, rtol: 1e-3, atol: 1e-4, gradient: .adjoint(AdjointOptions(rtol: 1e-6)), maxSteps: 50))
        let decoded = try ModelSpec(name: "ffjord", json: try ModelSpec.ffjord(custom).jsonString())
        #expect(decoded == .ffjord(custom))
        let unknown = old.replacingOccurrences(of: #""method":"dopri5""#, with: #""method":"rk45""#)
        #expect(throws: FlowError.self) { try ModelSpec(name: "ffjord", json: unknown) }
    }
}
