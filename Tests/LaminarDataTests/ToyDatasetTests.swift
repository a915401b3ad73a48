import Foundation
import Testing
import LaminarData

@Suite struct ToyDatasetTests {
    @Test(arguments: ToyDataset.allCases)
    func samplesAreSeededAndShaped(_ set: ToyDataset) {
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1), c = RandomGenerator(seed: 2)
        let x: Tensor<Double> = set.sample(500, using: &a)
        let y: Tensor<Double> = set.sample(500, using: &b)
        let z: Tensor<Double> = set.sample(500, using: &c)
        #expect(x.shape == [500, 2] && x == y && x != z && x.isFinite)
        // Every set lives in FFJORD's plotting square [-4, 4]² up to its noise tails.
        let inside = x.scalars.filter { Swift.abs($0) < 4.5 }.count
        #expect(inside >= 990, "\(set.rawValue): \(1000 - inside) coordinates outside")
    }

    @Test func eightGaussiansSitOnTheirCentres() {
        var rng = RandomGenerator(seed: 3)
        let x: Tensor<Double> = ToyDataset.eightGaussians.sample(2000, using: &rng)
        // Centres at radius 4/1.414 ≈ 2.83, σ = 0.5/1.414 ≈ 0.35: radii within 5σ.
        for i in 0..<2000 {
            let r = (x[i, 0] * x[i, 0] + x[i, 1] * x[i, 1]).squareRoot()
            #expect(Swift.abs(r - 4 / 1.414) < 5 * 0.5 / 1.414 + 0.1)
        }
    }

    @Test func checkerboardPointsAreOnTheOnSquares() {
        var rng = RandomGenerator(seed: 4)
        let x: Tensor<Double> = ToyDataset.checkerboard.sample(2000, using: &rng)
        for i in 0..<2000 {
            #expect(ToyDataset.checkerboard.logDensity(x: x[i, 0], y: x[i, 1])! > -.infinity)
        }
    }

    @Test func closedFormDensitiesIntegrateToOne() {
        for set in [ToyDataset.eightGaussians, .checkerboard] {
            let n = 400, low = -5.0, width = 10.0 / Double(n)
            var mass = 0.0
            for i in 0..<n { for j in 0..<n {
                mass += exp(set.logDensity(x: low + (Double(i) + 0.5) * width, y: low + (Double(j) + 0.5) * width)!)
            } }
            // Midpoint rule on a 400² grid: the checkerboard's edges fall on cell boundaries.
            #expect(Swift.abs(mass * width * width - 1) < 1e-3, "\(set.rawValue): \(mass * width * width)")
        }
    }
}

@Suite struct PointsFileTests {
    func temporary(_ name: String, _ contents: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func csvAndNpyRoundTrip() throws {
        var rng = RandomGenerator(seed: 1)
        let points = Tensor<Double>.randomNormal([7, 3], using: &rng)
        for format in [PointsFile.Format.csv, .npy] {
            let path = try temporary("p.\(format.rawValue)", "")
            try PointsFile.write(points, path: path, format: format)
            #expect(try PointsFile.load(path: path) == points)
        }
    }

    @Test func malformedCSVNamesTheLine() throws {
        let path = try temporary("a.csv", "x,y\n1,2\n3,abc\n")
        #expect(throws: DataError.notNumeric(path: path, line: 3, column: 2, text: "abc")) {
            try PointsFile.load(path: path)
        }
    }

    @Test func malformedInputsGiveTypedErrors() throws {
        func error(_ name: String, _ text: String) -> DataError? {
            do { _ = try PointsFile.load(path: try temporary(name, text)); return nil } catch { return error as? DataError }
        }
        if case .ragged(_, 3, 2, 3) = error("r.csv", "x,y\n1,2\n1,2,3\n") {} else { Issue.record("ragged") }
        if case .nonFinite(_, 2, 1) = error("n.csv", "x,y\nnan,2\n") {} else { Issue.record("NaN") }
        if case .empty = error("e.csv", "x,y\n") {} else { Issue.record("header only") }
        if case .badNpy = error("b.npy", "not numpy at all") {} else { Issue.record("npy magic") }
        #expect(throws: DataError.fileNotFound("/nonexistent/points.csv")) { try PointsFile.load(path: "/nonexistent/points.csv") }
        // A truncated .npy payload.
        let path = try temporary("t.npy", "")
        try PointsFile.write(Tensor<Double>(zeros: [4, 2]), path: path, format: .npy)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 8).write(to: URL(fileURLWithPath: path))
        #expect(throws: DataError.self) { try PointsFile.load(path: path) }
    }
}
