import Testing
import LaminarODE
import _LaminarTestSupport

/// The three gradient methods against central finite differences and against each other, in
/// Double, for a loss on the state at several output times.
@Suite struct ODEGradientTests {
    /// `dy/dt = W₂ tanh(W₁ y + b₁) + c·t·y` — a small MLP, non-autonomous.
    struct Model {
        let w1: Variable<Double>, b1: Variable<Double>, w2: Variable<Double>
        init() {
            var rng = RandomGenerator(seed: 8)
            w1 = Variable(Tensor.randomNormal([4, 2], using: &rng) * 0.8, requiresGradient: true)
            b1 = Variable(Tensor.randomNormal([4], using: &rng) * 0.3, requiresGradient: true)
            w2 = Variable(Tensor.randomNormal([2, 4], using: &rng) * 0.8, requiresGradient: true)
        }
        var parameters: [Variable<Double>] { [w1, b1, w2] }
        var dynamics: ClosureDynamics<Double> {
            ClosureDynamics(parameters: parameters) { [w1, b1, w2] t, y in
                [linear(tanh(linear(y[0], weight: w1, bias: b1)), weight: w2, bias: nil) + y[0] * t * 0.3]
            }
        }
    }

    static let weights: [Tensor<Double>] = {
        var rng = RandomGenerator(seed: 99)
        return (0..<3).map { _ in Tensor<Double>.randomNormal([3, 2], using: &rng) }
    }()

    /// L = Σ_k ⟨w_k, y(t_k)⟩ over the output times after the first, plus a quadratic term.
    static func loss(_ states: [[Variable<Double>]]) -> Variable<Double> {
        var total: Variable<Double>? = nil
        for k in 1..<states.count {
            let term = (states[k][0] * weights[k - 1]).sum() + square(states[k][0]).sum() * 0.1
            total = total.map { $0 + term } ?? term
        }
        return total!
    }

    static let options = ODEOptions(method: .dopri5, rtol: 1e-12, atol: 1e-12)
    static let y0 = Tensor<Double>(shape: [3, 2], scalars: [0.5, -0.3, 1.0, 0.2, -0.7, 0.4])
    static let times: [Double] = [0.1, 0.6, 1.0, 1.3]

    /// Gradients with respect to y0, the parameters and the times.
    static func gradientsOf(_ method: GradientMethod, model: Model) throws -> [Tensor<Double>] {
        try withGradient {
            let y = Variable(y0, requiresGradient: true)
            let t = Variable(Tensor(times), requiresGradient: true)
            let result = try odeint(model.dynamics, [y], times: t, options: options, gradient: method)
            return gradients(of: loss(result.states), wrt: [y, t] + model.parameters).map(\.value)
        }
    }

    static func lossValue(model: Model, y0: Tensor<Double>, times: [Double]) throws -> Double {
        try withoutGradient {
            let result = try odeint(model.dynamics, [Variable(y0)], times: times, options: options)
            return loss(result.states).value.scalar
        }
    }

    /// Central differences of the loss with respect to every input (h = 1e-4: truncation
    /// ≈ h² = 1e-8, solver noise ≈ 1e-12 / h = 1e-8).
    static func finiteDifferences(model: Model) throws -> [Tensor<Double>] {
        let h = 1e-4
        var out: [Tensor<Double>] = []
        var g = Tensor<Double>(zeros: y0.shape)
        for i in 0..<y0.count {
            var plus = y0, minus = y0
            plus.withUnsafeMutableBufferPointer { $0[i] += h }
            minus.withUnsafeMutableBufferPointer { $0[i] -= h }
            let d = (try lossValue(model: model, y0: plus, times: times) - lossValue(model: model, y0: minus, times: times)) / (2 * h)
            g.withUnsafeMutableBufferPointer { $0[i] = d }
        }
        out.append(g)
        var gt = Tensor<Double>(zeros: [times.count])
        for i in times.indices {
            var plus = times, minus = times
            plus[i] += h
            minus[i] -= h
            let d = (try lossValue(model: model, y0: y0, times: plus) - lossValue(model: model, y0: y0, times: minus)) / (2 * h)
            gt.withUnsafeMutableBufferPointer { $0[i] = d }
        }
        out.append(gt)
        for p in model.parameters {
            var gp = Tensor<Double>(zeros: p.shape)
            let original = p.value
            for i in 0..<p.count {
                var plus = original, minus = original
                plus.withUnsafeMutableBufferPointer { $0[i] += h }
                minus.withUnsafeMutableBufferPointer { $0[i] -= h }
                p.assign(plus)
                let lp = try lossValue(model: model, y0: y0, times: times)
                p.assign(minus)
                let lm = try lossValue(model: model, y0: y0, times: times)
                p.assign(original)
                gp.withUnsafeMutableBufferPointer { $0[i] = (lp - lm) / (2 * h) }
            }
            out.append(gp)
        }
        return out
    }

    @Test(arguments: ["backprop", "adjoint", "adjoint-full-norm", "checkpointed"])
    func gradientsMatchFiniteDifferences(method: String) throws {
        let model = Model()
        let numeric = try Self.finiteDifferences(model: model)
        let analytic = try Self.gradientsOf(GradientMethod(name: method)!, model: model)
        let names = ["y0", "times"] + ["w1", "b1", "w2"]
        for (k, (a, n)) in zip(analytic, numeric).enumerated() {
            // 1e-6 relative (plus 1e-6 absolute): finite-difference error ≈ 1e-8 and the
            // adjoint's own error at tolerance 1e-12 is far smaller.
            #expect(closeness(a, n, rtol: 1e-6, atol: 1e-6) <= 1, "\(method) d/d\(names[k]): \(a) vs \(n)")
        }
    }

    @Test func checkpointedEqualsBackpropToRounding() throws {
        let model = Model()
        let a = try Self.gradientsOf(.backprop, model: model)
        let b = try Self.gradientsOf(.checkpointedAdjoint, model: model)
        for (x, y) in zip(a, b) {
            // Both differentiate the same discrete solution; only summation order differs.
            #expect(closeness(x, y, rtol: 1e-10, atol: 1e-12) <= 1)
        }
    }

    @Test func seminormSavesBackwardEvaluations() throws {
        let model = Model()
        var nfe: [Int] = []
        for seminorm in [false, true] {
            let count = try withGradient { () throws -> Int in
                let y = Variable(Self.y0, requiresGradient: true)
                let options = ODEOptions(method: .dopri5, rtol: 1e-6, atol: 1e-6)
                let result = try odeint(model.dynamics, [y], times: [0, 2], options: options,
                                        gradient: .adjoint(AdjointOptions(seminorm: seminorm)))
                _ = gradients(of: Self.loss(result.states), wrt: model.parameters)
                return result.backwardStats.nfe
            }
            nfe.append(count)
        }
        #expect(nfe[1] <= nfe[0], "backward NFE full norm \(nfe[0]), seminorm \(nfe[1])")
    }
}

@Suite struct GradientMemoryTests {
    /// Bytes the recorded graph holds after one forward solve (what the backward pass needs).
    static func graphBytes(_ method: GradientMethod, steps: Int) throws -> Int {
        var rng = RandomGenerator(seed: 12)
        let w1 = Variable(Tensor<Double>.randomNormal([32, 2], using: &rng) * 0.5, requiresGradient: true)
        let w2 = Variable(Tensor<Double>.randomNormal([2, 32], using: &rng) * 0.2, requiresGradient: true)
        let f = ClosureDynamics<Double>(parameters: [w1, w2]) { _, y in
            [linear(tanh(linear(y[0], weight: w1, bias: nil)), weight: w2, bias: nil)]
        }
        let y0 = Variable(Tensor<Double>.randomNormal([64, 2], using: &rng), requiresGradient: true)
        let options = ODEOptions(method: .rk4, stepSize: 1 / Double(steps))
        return try withGradient {
            let r = try odeint(f, [y0], times: [0, 1], options: options, gradient: method)
            let loss = square(r.final[0]).sum()
            let bytes = recordedGraphBytes([loss])
            _ = gradients(of: loss, wrt: [y0, w1, w2])
            return bytes
        }
    }

    @Test func adjointMemoryIsFlatWhileBackpropGrows() throws {
        let adjoint = try (Self.graphBytes(.adjoint, steps: 10), Self.graphBytes(.adjoint, steps: 100))
        let backprop = try (Self.graphBytes(.backprop, steps: 10), Self.graphBytes(.backprop, steps: 100))
        // The bound: adjoint ≤ 1.2× when steps grow 10×; back-propagation keeps every
        // step's graph, so it grows nearly 10×. (Peak process memory is measured by the
        // `memory` benchmark.)
        #expect(Double(adjoint.1) <= 1.2 * Double(adjoint.0), "adjoint \(adjoint)")
        #expect(Double(backprop.1) >= 5 * Double(backprop.0), "backprop \(backprop)")
    }
}
