import Testing
import LaminarAutodiff
import _LaminarTestSupport

/// A first- and second-order finite-difference check, in Double, for every differentiable
/// operation. Inputs are small random tensors; `positive` inputs are moved to [0.5, 1.5] for
/// functions defined there, and kinks (relu, abs, maximum) are kept away from the samples.
struct OperationCase: CustomStringConvertible, Sendable {
    let name: String
    let shapes: [[Int]]
    let positive: Bool
    let f: @Sendable ([Variable<Double>]) -> Variable<Double>
    var description: String { name }

    init(_ name: String, _ shapes: [[Int]], positive: Bool = false,
         _ f: @escaping @Sendable ([Variable<Double>]) -> Variable<Double>) {
        self.name = name
        self.shapes = shapes
        self.positive = positive
        self.f = f
    }

    func inputs() -> [Tensor<Double>] {
        var rng = RandomGenerator(seed: UInt64(name.utf8.reduce(5) { $0 &* 31 &+ UInt64($1) }))
        return shapes.map { shape in
            let t = Tensor<Double>.randomNormal(shape, using: &rng)
            if positive { return Tensor<Double>.randomUniform(shape, low: 0.5, high: 1.5, using: &rng) }
            // Keep samples away from 0, where relu/abs/step have kinks: |x| ≥ 0.1.
            return Tensor(shape: shape, scalars: t.scalars.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 })
        }
    }
}

let operationCases: [OperationCase] = [
    OperationCase("add", [[3, 4], [3, 4]]) { $0[0] + $0[1] },
    OperationCase("add row bias", [[3, 4], [4]]) { $0[0] + $0[1] },
    OperationCase("add per-channel", [[2, 3, 2, 2], [1, 3, 1, 1]]) { $0[0] + $0[1] },
    OperationCase("subtract broadcast", [[3, 1], [1, 4]]) { $0[0] - $0[1] },
    OperationCase("multiply", [[3, 4], [3, 4]]) { $0[0] * $0[1] },
    OperationCase("multiply broadcast", [[3, 4], [3, 1]]) { $0[0] * $0[1] },
    OperationCase("divide", [[3, 4], [4]], positive: true) { $0[0] / $0[1] },
    OperationCase("negate", [[3, 4]]) { -$0[0] },
    OperationCase("scale and shift", [[3, 4]]) { $0[0] * 2.5 + 0.7 },
    OperationCase("matmul", [[3, 4], [4, 5]]) { matmul($0[0], $0[1]) },
    OperationCase("matmul Aᵀ", [[4, 3], [4, 5]]) { matmul($0[0], transposeA: true, $0[1]) },
    OperationCase("matmul Bᵀ", [[3, 4], [5, 4]]) { matmul($0[0], $0[1], transposeB: true) },
    OperationCase("matmul AᵀBᵀ", [[4, 3], [5, 4]]) { matmul($0[0], transposeA: true, $0[1], transposeB: true) },
    OperationCase("linear", [[3, 4], [5, 4], [5]]) { linear($0[0], weight: $0[1], bias: $0[2]) },
    OperationCase("exp", [[3, 4]]) { exp($0[0]) },
    OperationCase("log", [[3, 4]], positive: true) { log($0[0]) },
    OperationCase("log1p", [[3, 4]], positive: true) { log1p($0[0]) },
    OperationCase("tanh", [[3, 4]]) { tanh($0[0]) },
    OperationCase("sigmoid", [[3, 4]]) { sigmoid($0[0]) },
    OperationCase("tanhBackward", [[3, 4], [3, 4]]) { tanhBackward($0[0], output: $0[1]) },
    OperationCase("softplus", [[3, 4]]) { softplus($0[0]) },
    OperationCase("relu", [[3, 4]]) { relu($0[0]) * $0[0] },
    OperationCase("elu", [[3, 4]]) { elu($0[0]) },
    OperationCase("swish", [[3, 4]]) { swish($0[0]) },
    OperationCase("sqrt", [[3, 4]], positive: true) { sqrt($0[0]) },
    OperationCase("square", [[3, 4]]) { square($0[0]) },
    OperationCase("abs", [[3, 4]]) { abs($0[0]) * $0[0] },
    OperationCase("sin", [[3, 4]]) { sin($0[0]) },
    OperationCase("cos", [[3, 4]]) { cos($0[0]) },
    OperationCase("pow", [[3, 4]], positive: true) { pow($0[0], 2.5) },
    OperationCase("maximum", [[3, 4], [4]]) { maximum($0[0], $0[1]) * $0[0] },
    OperationCase("sum all", [[3, 4]]) { square($0[0]).sum() },
    OperationCase("sum axis", [[3, 4, 2]]) { square($0[0]).sum(axes: [1]) },
    OperationCase("sum keepDims", [[3, 4]]) { square($0[0]).sum(axes: [0], keepDims: true) * $0[0] },
    OperationCase("mean", [[3, 4]]) { square($0[0]).mean(axes: [1]) },
    OperationCase("sum to shape", [[3, 4]]) { square($0[0]).sum(toShape: [1, 4]) },
    OperationCase("broadcast", [[1, 4]]) { square($0[0]).broadcast(to: [3, 4]) * $0[0] },
    OperationCase("logSumExp", [[3, 4]]) { $0[0].logSumExp(axes: [1]) * $0[0].sum(axes: [1]) },
    OperationCase("reshape", [[3, 4]]) { square($0[0]).reshaped([2, 6]) },
    OperationCase("transpose 3-D", [[2, 3, 4]]) { square($0[0]).transposed([2, 0, 1]) },
    OperationCase("slice", [[5, 3]]) { square($0[0]).slice(axis: 0, 1..<4) },
    OperationCase("placed", [[2, 3]]) { square($0[0]).placed(into: [5, 3], axis: 0, at: 2) },
    OperationCase("concatenate", [[2, 3], [4, 3]]) { Variable.concatenate([square($0[0]), $0[1] * $0[1] * $0[1]], axis: 0) },
    OperationCase("squeeze/unsqueeze", [[3, 1, 4]]) { square($0[0]).squeezed(at: 1).unsqueezed(at: 0) },
    OperationCase("conv2d", [[2, 2, 4, 4], [3, 2, 3, 3], [3]]) { conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1) * $0[2].reshaped([1, 3, 1, 1]) },
    OperationCase("conv2d stride 2", [[1, 2, 5, 5], [2, 2, 3, 3]]) { square(conv2d($0[0], weight: $0[1], stride: 2, padding: 1)) },
    OperationCase("conv2d input gradient", [[1, 3, 2, 2], [3, 2, 3, 3]]) {
        square(conv2dBackwardInput($0[0], weight: $0[1], inputShape: [1, 2, 4, 4], stride: 1, padding: 0))
    },
    OperationCase("conv2d weight gradient", [[1, 2, 4, 4], [1, 3, 2, 2]]) {
        square(conv2dBackwardWeight($0[0], gradOutput: $0[1], weightShape: [3, 2, 3, 3], stride: 1, padding: 0))
    },
    OperationCase("avgPool2d", [[1, 2, 4, 4]]) { square(avgPool2d($0[0], kernel: 2, stride: 2)) },
]

@Suite struct OperationGradientTests {
    @Test(arguments: operationCases)
    func firstOrderGradientMatchesFiniteDifferences(_ op: OperationCase) {
        let result = checkGradient(op.f, at: op.inputs())
        // Central differences, h = 1e-6: truncation ~1e-12, rounding ~1e-10 relative.
        #expect(result.maxError < 1e-6, "\(op.name): \(result)")
    }

    @Test(arguments: operationCases)
    func secondOrderGradientMatchesFiniteDifferences(_ op: OperationCase) {
        let result = checkSecondOrderGradient(op.f, at: op.inputs())
        // Differences of a gradient, h = 1e-5: truncation ~1e-10, rounding ~1e-11/h relative.
        #expect(result.maxError < 1e-5, "\(op.name): \(result)")
    }
}

@Suite struct DifferentialTests {
    @Test func jvpAndVjpAgreeWithTheJacobian() {
        var rng = RandomGenerator(seed: 3)
        let w = Tensor<Double>.randomNormal([3, 2], using: &rng)
        let f: (Variable<Double>) -> Variable<Double> = { x in tanh(matmul(x, Variable(w), transposeB: true)) }
        let x = Tensor<Double>.randomNormal([1, 2], using: &rng)
        let j = jacobian(of: f, at: x).reshaped([3, 2])
        let v = Tensor<Double>.randomNormal([1, 2], using: &rng)
        let u = Tensor<Double>.randomNormal([1, 3], using: &rng)
        let jv = jvp(of: f, at: x, tangent: v).jvp
        let uj = vjp(of: f, at: x, cotangent: u).vjp
        // Exact identities up to rounding.
        #expect(maxAbsDifference(jv.reshaped([3]), matmul(j, v.reshaped([2, 1])).reshaped([3])) < 1e-12)
        #expect(maxAbsDifference(uj.reshaped([2]), matmul(u, j).reshaped([2])) < 1e-12)
    }

    @Test func jacobianOfALinearMapIsItsMatrix() {
        let m = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let j = jacobian(of: { matmul(Variable(m), $0) }, at: Tensor<Double>(zeros: [3, 1]))
        #expect(j.reshaped([2, 3]) == m)
    }

    @Test func variableUsedTwiceAccumulatesBothContributions() {
        let x = Variable(Tensor<Double>([3]), requiresGradient: true)
        let g = withGradient { gradients(of: (x * x).sum(), wrt: [x])[0] }
        #expect(g.value.scalars == [6])
    }

    @Test func unusedInputGetsZeroGradient() {
        let x = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let y = Variable(Tensor<Double>([5]), requiresGradient: true)
        let g = withGradient { gradients(of: square(x).sum(), wrt: [x, y]) }
        #expect(g[1].value.scalars == [0])
    }

    @Test func withoutGradientRecordsNothing() {
        let x = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let y = withoutGradient { tanh(x) * 2 }
        #expect(y.isLeaf && !y.requiresGradient)
    }

    @Test func thirdDerivativeOfCube() {
        // d/dx of d/dx (x³) = 6x, taken as a gradient of a gradient.
        let x = Variable(Tensor<Double>([0.7, -1.3]), requiresGradient: true)
        let second = withGradient { () -> Tensor<Double> in
            let g = gradients(of: pow(x, 3).sum(), wrt: [x], createGraph: true)[0]
            return gradients(of: g.sum(), wrt: [x])[0].value
        }
        #expect(maxAbsDifference(second, Tensor([4.2, -7.8])) < 1e-12)
    }

    @Test func pruningDoesNotChangeGradients() {
        var rng = RandomGenerator(seed: 4)
        let a = Variable(Tensor<Double>.randomNormal([3, 3], using: &rng), requiresGradient: true)
        let b = Variable(Tensor<Double>.randomNormal([3, 3], using: &rng), requiresGradient: true)
        let (ga, both) = withGradient { () -> (Tensor<Double>, Tensor<Double>) in
            let loss = tanh(matmul(a, b)).sum()
            return (gradients(of: loss, wrt: [a])[0].value, gradients(of: loss, wrt: [a, b])[0].value)
        }
        #expect(ga == both)
    }
}
