import Foundation
import Testing
@testable import LaminarNN
import _LaminarTestSupport

@Suite struct GRUCellTests {
    /// The cell against its equations written out with scalars, for one row.
    @Test func matchesTheGateEquations() {
        var rng = RandomGenerator(seed: 3)
        let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 2, using: &rng)
        let x = Tensor<Double>.randomNormal([1, 3], using: &rng)
        let h = Tensor<Double>.randomNormal([1, 2], using: &rng)
        let out = cell(Variable(x), Variable(h)).value.scalars
        let (wi, wh, bi, bh) = (cell.weightIH.value.scalars, cell.weightHH.value.scalars, cell.biasIH.value.scalars, cell.biasHH.value.scalars)
        func gi(_ row: Int) -> Double { bi[row] + (0..<3).reduce(0) { $0 + wi[row * 3 + $1] * x.scalars[$1] } }
        func gh(_ row: Int) -> Double { bh[row] + (0..<2).reduce(0) { $0 + wh[row * 2 + $1] * h.scalars[$1] } }
        func sigma(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        for k in 0..<2 {
            let r = sigma(gi(k) + gh(k))
            let u = sigma(gi(2 + k) + gh(2 + k))
            let n = Foundation.tanh(gi(4 + k) + r * gh(4 + k))
            let expected = (1 - u) * n + u * h.scalars[k]
            #expect(Swift.abs(out[k] - expected) < 1e-12)
        }
    }

    /// First- and second-order central differences with respect to input, state and weights.
    @Test func gradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 5)
        let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 4, using: &rng)
        let inputs = [
            Tensor<Double>.randomNormal([2, 3], using: &rng), Tensor<Double>.randomNormal([2, 4], using: &rng),
            cell.weightIH.value, cell.weightHH.value, cell.biasIH.value, cell.biasHH.value,
        ]
        func layer(_ v: [Variable<Double>]) -> Variable<Double> {
            GRUCell<Double>.step(v[0], v[1], weightIH: v[2], weightHH: v[3], biasIH: v[4], biasHH: v[5])
        }
        let first = checkGradient(layer, at: inputs)
        #expect(first.maxError < 1e-6, "\(first)")
        let second = checkSecondOrderGradient(layer, at: inputs)
        #expect(second.maxError < 1e-5, "\(second)")
    }
}
