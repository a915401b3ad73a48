import Testing
import LaminarSDE
import _LaminarTestSupport

/// Gradients through SDE solves, in Double, on one fixed sample path: back-propagation against
/// central finite differences of the same path (same seed), and the stochastic adjoint against
/// back-propagation as the step shrinks.
@Suite struct SDEGradientTests {
    /// Stratonovich SDE on a [3, 2] state: drift W₂ tanh(W₁x + b₁) + 0.3·t·x, and either
    /// diagonal diffusion 0.4·tanh(x ⊙ c + d) + 0.2 or general noise (m = 3)
    /// tanh(x W₃) reshaped to [3, 2, 3] times 0.3.
    struct Model {
        let w1: Variable<Double>, b1: Variable<Double>, w2: Variable<Double>
        let c: Variable<Double>, d: Variable<Double>, w3: Variable<Double>
        let general: Bool
        init(general: Bool = false) {
            var rng = RandomGenerator(seed: 8)
            w1 = Variable(Tensor.randomNormal([4, 2], using: &rng) * 0.8, requiresGradient: true)
            b1 = Variable(Tensor.randomNormal([4], using: &rng) * 0.3, requiresGradient: true)
            w2 = Variable(Tensor.randomNormal([2, 4], using: &rng) * 0.8, requiresGradient: true)
            c = Variable(Tensor.randomNormal([2], using: &rng), requiresGradient: true)
            d = Variable(Tensor.randomNormal([2], using: &rng) * 0.3, requiresGradient: true)
            w3 = Variable(Tensor.randomNormal([6, 2], using: &rng) * 0.5, requiresGradient: true)
            self.general = general
        }
        var parameters: [Variable<Double>] { general ? [w1, b1, w2, w3] : [w1, b1, w2, c, d] }
        var sde: ClosureSDE<Double> {
            let (w1, b1, w2, c, d, w3) = (self.w1, self.b1, self.w2, self.c, self.d, self.w3)
            return ClosureSDE(
                calculus: .stratonovich, noise: general ? .general(noise: 3) : .diagonal, parameters: parameters,
                drift: { t, x in linear(tanh(linear(x, weight: w1, bias: b1)), weight: w2, bias: nil) + x * t * 0.3 },
                diffusion: general
                    ? { _, x in tanh(linear(x, weight: w3, bias: nil)).reshaped([3, 2, 3]) * 0.3 }
                    : { _, x in tanh(x * c + d) * 0.4 + 0.2 })
        }
    }

    static let x0 = Tensor<Double>(shape: [3, 2], scalars: [0.5, -0.3, 1.0, 0.2, -0.7, 0.4])
    static let times: [Double] = [0, 0.4, 1.0]
    static let weights: [Tensor<Double>] = {
        var rng = RandomGenerator(seed: 99)
        return (0..<2).map { _ in Tensor<Double>.randomNormal([3, 2], using: &rng) }
    }()

    static func brownian(_ model: Model) -> VirtualBrownianTree {
        VirtualBrownianTree(t0: 0, t1: 1, shape: model.general ? [3, 3] : [3, 2], seed: 1234)
    }

    /// L = Σ_k ⟨w_k, X(t_k)⟩ + 0.1 Σ X(t_k)² over the outputs after the first.
    static func loss(_ states: [Variable<Double>]) -> Variable<Double> {
        var total = (states[1] * weights[0]).sum() + square(states[1]).sum() * 0.1
        total = total + (states[2] * weights[1]).sum() + square(states[2]).sum() * 0.1
        return total
    }

    static func gradientsOf(_ method: SDEGradientMethod, model: Model, scheme: SDEScheme, h: Double) throws -> [Tensor<Double>] {
        try withGradient {
            let x = Variable(x0, requiresGradient: true)
            let result = try sdeint(
                model.sde, x, times: times, brownian: brownian(model), options: SDEOptions(scheme: scheme, stepSize: h),
                gradient: method)
            return gradients(of: loss(result.states), wrt: [x] + model.parameters).map(\.value)
        }
    }

    /// Central differences of the loss on the same path, for every element of x0 and θ.
    static func finiteDifferences(model: Model, scheme: SDEScheme, h: Double, eps: Double = 1e-6) throws -> [Tensor<Double>] {
        func lossValue() throws -> Double {
            try withoutGradient {
                let r = try sdeint(model.sde, Variable(x0), times: times, brownian: brownian(model), options: SDEOptions(scheme: scheme, stepSize: h))
                return loss(r.states).value.scalar
            }
        }
        var x = Variable(x0)
        var out: [Tensor<Double>] = []
        for (index, p) in ([x] + model.parameters).enumerated() {
            var g = [Double](repeating: 0, count: p.count)
            for i in 0..<p.count {
                let original = p.value
                var plus = original.scalars, minus = original.scalars
                plus[i] += eps
                minus[i] -= eps
                if index == 0 {
                    x = Variable(Tensor(shape: original.shape, scalars: plus))
                } else { p.assign(Tensor(shape: original.shape, scalars: plus)) }
                let lp = try index == 0 ? lossAt(x, model, scheme, h) : lossValue()
                if index == 0 {
                    x = Variable(Tensor(shape: original.shape, scalars: minus))
                } else { p.assign(Tensor(shape: original.shape, scalars: minus)) }
                let lm = try index == 0 ? lossAt(x, model, scheme, h) : lossValue()
                if index != 0 { p.assign(original) }
                g[i] = (lp - lm) / (2 * eps)
            }
            out.append(Tensor(shape: p.shape, scalars: g))
        }
        return out
    }

    static func lossAt(_ x: Variable<Double>, _ model: Model, _ scheme: SDEScheme, _ h: Double) throws -> Double {
        try withoutGradient {
            let r = try sdeint(model.sde, x, times: times, brownian: brownian(model), options: SDEOptions(scheme: scheme, stepSize: h))
            return loss(r.states).value.scalar
        }
    }

    static func relativeError(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) {
            for (p, q) in zip(x.scalars, y.scalars) {
                num += (p - q) * (p - q)
                den += q * q
            }
        }
        return (num / den).squareRoot()
    }

    /// Back-propagation is the exact derivative of the discrete path: it agrees with central
    /// differences (step 1e-6, truncation ~1e-12, rounding ~1e-10) to 1e-6.
    @Test(arguments: [(SDEScheme.heun, false), (.midpoint, true), (.milsteinStratonovich, false)])
    func backpropMatchesFiniteDifferencesOnTheSamePath(_ scheme: SDEScheme, _ general: Bool) throws {
        let model = Model(general: general)
        let analytic = try Self.gradientsOf(.backprop, model: model, scheme: scheme, h: 0.05)
        let numeric = try Self.finiteDifferences(model: model, scheme: scheme, h: 0.05)
        let error = Self.relativeError(analytic, numeric)
        #expect(error < 1e-6, "\(scheme.name): relative error \(error)")
    }

    /// The adjoint solves the continuous adjoint SDE backwards, so it differs from
    /// back-propagation by the discretisation error of both solves: small at a fine step, and
    /// shrinking at least like h^½ (strong order ½ with general noise, 1 with diagonal).
    @Test(arguments: [(SDEScheme.heun, false), (.midpoint, false), (.midpoint, true)])
    func adjointConvergesToBackprop(_ scheme: SDEScheme, _ general: Bool) throws {
        let model = Model(general: general)
        var errors: [Double] = []
        for h in [0.02, 0.005, 0.00125] {
            let adjoint = try Self.gradientsOf(.adjoint, model: model, scheme: scheme, h: h)
            let backprop = try Self.gradientsOf(.backprop, model: model, scheme: scheme, h: h)
            errors.append(Self.relativeError(adjoint, backprop))
        }
        #expect(errors[2] < 0.02, "\(scheme.name): adjoint vs backprop \(errors)")
        #expect(errors[0] / errors[2] > 3, "\(scheme.name): no convergence \(errors)")
    }

    /// Against finite differences of the same path at a fine step.
    @Test func adjointMatchesFiniteDifferences() throws {
        let model = Model()
        let adjoint = try Self.gradientsOf(.adjoint, model: model, scheme: .midpoint, h: 0.001)
        let numeric = try Self.finiteDifferences(model: model, scheme: .midpoint, h: 0.001)
        let error = Self.relativeError(adjoint, numeric)
        #expect(error < 0.01, "relative error \(error)")
    }

    /// The graph kept for the backward pass grows with the steps under backprop and stays flat
    /// under the adjoint (only the states at the output times are kept).
    @Test func adjointMemoryStaysFlatAsStepsGrow() throws {
        let model = Model()
        func bytes(_ method: SDEGradientMethod, _ h: Double) throws -> Int {
            try withGradient {
                let r = try sdeint(
                    model.sde, Variable(Self.x0, requiresGradient: true), times: Self.times, brownian: Self.brownian(model),
                    options: SDEOptions(scheme: .midpoint, stepSize: h), gradient: method)
                return recordedGraphBytes(r.states)
            }
        }
        let (adjointFew, adjointMany) = (try bytes(.adjoint, 0.05), try bytes(.adjoint, 0.005))
        let (backpropFew, backpropMany) = (try bytes(.backprop, 0.05), try bytes(.backprop, 0.005))
        #expect(Double(adjointMany) <= 1.2 * Double(adjointFew), "adjoint \(adjointFew) → \(adjointMany) bytes")
        #expect(Double(backpropMany) >= 8 * Double(backpropFew), "backprop \(backpropFew) → \(backpropMany) bytes")
    }

    @Test func badRequestsThrowTypedErrors() throws {
        let model = Model()
        let x = Variable(Self.x0)
        let tree = Self.brownian(model)
        #expect(throws: SDEError.self) {   // Itô scheme on a Stratonovich SDE
            try sdeint(model.sde, x, times: [0, 1], brownian: tree, options: SDEOptions(scheme: .eulerMaruyama, stepSize: 0.1))
        }
        #expect(throws: SDEError.self) {   // outside the Brownian span
            try sdeint(model.sde, x, times: [0, 2], brownian: tree, options: SDEOptions(scheme: .heun, stepSize: 0.1))
        }
        #expect(throws: SDEError.self) {   // wrong Brownian shape
            try sdeint(model.sde, x, times: [0, 1], brownian: VirtualBrownianTree(t0: 0, t1: 1, shape: [3], seed: 1),
                       options: SDEOptions(scheme: .heun, stepSize: 0.1))
        }
        #expect(throws: SDEError.self) {   // non-positive step
            try sdeint(model.sde, x, times: [0, 1], brownian: tree, options: SDEOptions(scheme: .heun, stepSize: 0))
        }
        let ito = ClosureSDE<Double>(calculus: .ito, parameters: model.parameters, drift: { _, x in x }, diffusion: { _, x in x })
        #expect(throws: SDEError.self) {   // the adjoint needs Stratonovich
            try withGradient {
                try sdeint(ito, Variable(Self.x0, requiresGradient: true), times: [0, 1], brownian: tree,
                           options: SDEOptions(scheme: .eulerMaruyama, stepSize: 0.1), gradient: .adjoint)
            }
        }
        let explode = ClosureSDE<Double>(calculus: .ito, drift: { _, x in x * x * x * 100 }, diffusion: { _, x in x })
        do {
            _ = try sdeint(explode, Variable(Tensor(repeating: 10, shape: [3, 2])), times: [0, 1], brownian: tree,
                           options: SDEOptions(scheme: .eulerMaruyama, stepSize: 0.1))
            Issue.record("a blow-up did not throw")
        } catch SDEError.nonFinite(let t) {
            #expect(t > 0 && t <= 1)
        }
    }
}
