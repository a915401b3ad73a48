import Foundation
import LaminarData
import LaminarLatentODE
import LaminarFlows
import LaminarNN

/// The parsers that read user files, as fuzz targets: each takes arbitrary bytes and must
/// either accept them or throw its typed error. Anything else (a trap, an unbounded
/// allocation, a hang) is a bug. Used by the in-process mutation harness in the tests and by
/// the libFuzzer build (`make fuzz`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case idx
    case safetensors
    /// Safetensors + model metadata: the whole path of `laminar evaluate --checkpoint`.
    case checkpoint
    case pointsCSV = "points-csv"
    case npy
    case timeSeriesCSV = "time-series-csv"

    /// Outcome of one input.
    public enum Outcome: Sendable { case accepted, rejected }

    /// Runs the parser on `bytes`. Errors of the parsers' own types count as `rejected`; an
    /// error of any other type traps, because it would reach the user as an untyped failure.
    public func run(_ bytes: [UInt8]) -> Outcome {
        do {
            switch self {
            case .idx:
                _ = try IDXFile.parse(bytes, path: "fuzz.idx")
            case .safetensors:
                let file = try SafetensorsFile.parse(bytes, path: "fuzz.safetensors")
                for name in file.order { _ = try file.tensor(name, as: Float.self) }
            case .checkpoint:
                let file = try SafetensorsFile.parse(bytes, path: "fuzz.safetensors")
                let checkpoint = try Checkpoint<Float>(file: file)
                _ = try ModelStore.model(of: checkpoint, path: "fuzz.safetensors")
            case .pointsCSV:
                _ = try PointsFile.parseCSV(String(decoding: bytes, as: UTF8.self), path: "fuzz.csv")
            case .npy:
                _ = try PointsFile.parseNpy(bytes, path: "fuzz.npy")
            case .timeSeriesCSV:
                let series = try TimeSeriesCSV.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.csv")
                // What `laminar latent train --data my.csv` does next: split and lay out a batch.
                let examples = try SeriesExample.split(series, path: "fuzz.csv")
                if !examples.isEmpty { _ = SeriesBatch<Float>(Array(examples.prefix(8))) }
            }
            return .accepted
        } catch is DataError, is CheckpointError, is FlowError {
            return .rejected
        } catch {
            fatalError("\(rawValue): untyped error \(type(of: error)): \(error)")
        }
    }

    /// Valid inputs to start mutating from.
    public var seeds: [[UInt8]] {
        switch self {
        case .idx:
            let images = IDXFile(shape: [3, 4, 4], bytes: (0..<48).map { UInt8($0 * 5) })
            let labels = IDXFile(shape: [3], bytes: [1, 7, 9])
            return [images.serialized(), labels.serialized()]
        case .safetensors, .checkpoint:
            return [Self.checkpointSeed(.planar(PlanarFlowConfiguration(dimension: 2, depth: 2))),
                    Self.checkpointSeed(.realNVP(RealNVPConfiguration(dimension: 2, couplings: 2, hidden: [3])))]
        case .pointsCSV:
            return [Array("x,y\n1.5,2\n-3,4e-2\n0,0\n".utf8), Array("a\n1\n2\n".utf8)]
        case .timeSeriesCSV:
            return [Array("series_id,time,x,y\na,0.1,1.5,2\na,0.2,0.5,1\na,0.4,,3\na,0.5,1,1\nb,0.05,-1,1e-3\nb,0.1,2,\nb,0.3,0,0\n".utf8)]
        case .npy:
            let points = Tensor<Double>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
            return [PointsFile.serialize(points, format: .npy)]
        }
    }

    /// The bytes of a small, valid checkpoint of `spec`.
    static func checkpointSeed(_ spec: ModelSpec) -> [UInt8] {
        var rng = RandomGenerator(seed: 1)
        let flow: AnyFlow<Float> = try! spec.build(using: &rng)
        let metadata = ["model": spec.name, "configuration": try! spec.jsonString()]
        return try! SafetensorsFile.serialize(flow.namedParameters.map { ($0.0, $0.1.value) }, metadata: metadata)
    }
}
