import Foundation
import LaminarAutodiff

/// Which density model to build, with its settings: what `laminar train --model …` asks for
/// and what a checkpoint records (metadata `model` = ``name``, `configuration` = JSON).
public enum ModelSpec: Equatable, Sendable {
    case ffjord(FFJORDConfiguration)
    case planar(PlanarFlowConfiguration)
    case planarCNF(PlanarCNFConfiguration)
    case realNVP(RealNVPConfiguration)
    /// Invertible residual blocks with spectral normalisation (i-ResNet / residual flow).
    case residualFlow(ResidualFlowConfiguration)
    /// Multiscale FFJORD with convolutional dynamics, for images.
    case multiscaleCNF(MultiscaleCNFConfiguration)
    /// Real NVP with checkerboard and channel-wise couplings, for images.
    case imageRealNVP(ImageRealNVPConfiguration)
    /// One CNF block with a U-Net field, for images (flow matching's image model).
    case unetCNF(UNetCNFConfiguration)

    /// Model names stored in checkpoints.
    public static let names = ["ffjord", "planar", "planar-cnf", "realnvp", "ffjord-multiscale", "realnvp-image", "resflow", "ffjord-unet"]

    /// Whether the model works on images (`[n, C·H·W]` rows with an image shape).
    public var isImageModel: Bool {
        switch self {
        case .multiscaleCNF, .imageRealNVP, .unetCNF: return true
        default: return false
        }
    }

    /// The model's name in checkpoints and on the command line (`ffjord`, `planar-cnf`, `realnvp-image`, …).
    public var name: String {
        switch self {
        case .ffjord: return "ffjord"
        case .planar: return "planar"
        case .planarCNF: return "planar-cnf"
        case .realNVP: return "realnvp"
        case .residualFlow: return "resflow"
        case .multiscaleCNF: return "ffjord-multiscale"
        case .imageRealNVP: return "realnvp-image"
        case .unetCNF: return "ffjord-unet"
        }
    }

    /// The data dimension d of the model (C·H·W for image models).
    public var dimension: Int {
        switch self {
        case .ffjord(let c): return c.dimension
        case .planar(let c): return c.dimension
        case .planarCNF(let c): return c.dimension
        case .realNVP(let c): return c.dimension
        case .residualFlow(let c): return c.dimension
        case .multiscaleCNF(let c): return c.dimension
        case .imageRealNVP(let c): return c.dimension
        case .unetCNF(let c): return c.dimension
        }
    }

    /// One line for logs, e.g. `FFJORD 64-64-64` or `planar flow K=8`.
    public var summary: String {
        switch self {
        case .ffjord(let c):
            let field = c.field == "hollow" ? " hollow (per dimension)" : ""
            return "FFJORD \(c.hidden.map(String.init).joined(separator: "-"))\(field), \(c.trace) trace, \(c.solve.gradient.name), \(c.solve.method.name) rtol \(c.solve.rtol) atol \(c.solve.atol)"
        case .planar(let c): return "planar flow K=\(c.depth)"
        case .planarCNF(let c): return "planar CNF M=\(c.width), \(c.solve.gradient.name), \(c.solve.method.name) rtol \(c.solve.rtol) atol \(c.solve.atol)"
        case .realNVP(let c):
            return "Real NVP, \(c.couplings) couplings \(c.hidden.map(String.init).joined(separator: "-"))\(c.actnorm ? " + actnorm" : "")"
        case .residualFlow(let c):
            return "residual flow K=\(c.depth), \(c.hidden.map(String.init).joined(separator: "-")), Lip \(c.lipschitz), \(c.logDeterminant) log-det (\(c.trace) trace)"
        case .multiscaleCNF(let c):
            let rnode = c.kineticWeight > 0 || c.jacobianWeight > 0 ? ", RNODE λK \(c.kineticWeight) λJ \(c.jacobianWeight)" : ""
            return "multiscale FFJORD \(c.channels)×\(c.height)×\(c.width), \(c.scales) scales × \(c.blocksPerScale) blocks, conv \(c.hidden.map(String.init).joined(separator: "-")), \(c.trace) trace, \(c.solve.gradient.name), \(c.solve.method.name) rtol \(c.solve.rtol) atol \(c.solve.atol)\(rnode)"
        case .imageRealNVP(let c):
            return "Real NVP (images) \(c.channels)×\(c.height)×\(c.width), \(c.scales) scales × \(c.couplingsPerStage) couplings, conv \(c.hidden.map(String.init).joined(separator: "-"))"
        case .unetCNF(let c):
            return "U-Net CNF \(c.channels)×\(c.height)×\(c.width), channels \(c.hidden.map(String.init).joined(separator: "-")), GroupNorm \(c.groups), \(c.trace) trace, \(c.solve.gradient.name), \(c.solve.method.name) rtol \(c.solve.rtol) atol \(c.solve.atol)"
        }
    }

    /// Checks the settings; the error names the offending field.
    public func validate() throws {
        switch self {
        case .ffjord(let c): try c.validate()
        case .planar(let c): try c.validate()
        case .planarCNF(let c): try c.validate()
        case .realNVP(let c): try c.validate()
        case .residualFlow(let c): try c.validate()
        case .multiscaleCNF(let c): try c.validate()
        case .imageRealNVP(let c): try c.validate()
        case .unetCNF(let c): try c.validate()
        }
    }

    /// The settings as compact JSON (sorted keys).
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        switch self {
        case .ffjord(let c): data = try encoder.encode(c)
        case .planar(let c): data = try encoder.encode(c)
        case .planarCNF(let c): data = try encoder.encode(c)
        case .realNVP(let c): data = try encoder.encode(c)
        case .residualFlow(let c): data = try encoder.encode(c)
        case .multiscaleCNF(let c): data = try encoder.encode(c)
        case .imageRealNVP(let c): data = try encoder.encode(c)
        case .unetCNF(let c): data = try encoder.encode(c)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses a model name and the JSON written by ``jsonString()``.
    public init(name: String, json: String) throws {
        let decoder = JSONDecoder()
        let data = Data(json.utf8)
        do {
            switch name {
            case "ffjord": self = .ffjord(try decoder.decode(FFJORDConfiguration.self, from: data))
            case "planar": self = .planar(try decoder.decode(PlanarFlowConfiguration.self, from: data))
            case "planar-cnf": self = .planarCNF(try decoder.decode(PlanarCNFConfiguration.self, from: data))
            case "realnvp": self = .realNVP(try decoder.decode(RealNVPConfiguration.self, from: data))
            case "resflow": self = .residualFlow(try decoder.decode(ResidualFlowConfiguration.self, from: data))
            case "ffjord-multiscale": self = .multiscaleCNF(try decoder.decode(MultiscaleCNFConfiguration.self, from: data))
            case "realnvp-image": self = .imageRealNVP(try decoder.decode(ImageRealNVPConfiguration.self, from: data))
            case "ffjord-unet": self = .unetCNF(try decoder.decode(UNetCNFConfiguration.self, from: data))
            default:
                throw FlowError.invalidConfiguration(
                    "unknown model '\(name)'; use one of \(Self.names.joined(separator: ", "))")
            }
        } catch let error as FlowError {
            throw error
        } catch {
            throw FlowError.invalidConfiguration("the \(name) configuration JSON does not parse: \(error)")
        }
    }

    /// A lower bound on the number of parameters (the weight matrices alone), computed without
    /// building the model; saturates instead of overflowing.
    public var minimumParameterCount: Int {
        func chain(_ widths: [Int]) -> Int {
            zip(widths, widths.dropFirst()).reduce(0) { total, pair in
                let (p, overflow) = pair.0.multipliedReportingOverflow(by: pair.1)
                return overflow ? Int.max / 2 : Swift.min(Int.max / 2, total + p)
            }
        }
        func times(_ a: Int, _ b: Int) -> Int {
            let (p, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? Int.max / 2 : p
        }
        switch self {
        case .ffjord(let c): return times(c.blocks, chain([c.dimension] + c.hidden + [c.dimension]))
        case .planar(let c): return times(c.depth, times(2, c.dimension))
        case .planarCNF(let c): return times(c.hyperHidden, times(c.width, times(3, c.dimension)))
        case .realNVP(let c): return times(c.couplings, chain([c.dimension] + c.hidden + [times(2, c.dimension)]))
        case .residualFlow(let c): return times(c.depth, chain([c.dimension] + c.hidden + [c.dimension]))
        case .multiscaleCNF(let c):
            // 3×3 kernels; the first scale's blocks alone.
            return times(c.blocksPerScale, times(9, chain([c.channels] + c.hidden + [c.channels])))
        case .imageRealNVP(let c):
            return times(c.couplingsPerStage, times(9, chain([c.channels] + c.hidden + [times(2, c.channels)])))
        case .unetCNF(let c):
            // The 3×3 convolutions of the down path's residual blocks alone.
            return times(9, chain([c.channels] + c.hidden.flatMap { [$0, $0] }))
        }
    }

    /// A freshly initialised model.
    public func build<S: TensorScalar>(using rng: inout RandomGenerator) throws -> AnyFlow<S> {
        switch self {
        case .ffjord(let c): return AnyFlow(try FFJORD<S>(c, using: &rng))
        case .planar(let c): return AnyFlow(try PlanarFlow<S>(c, using: &rng))
        case .planarCNF(let c): return AnyFlow(try PlanarCNF<S>(c, using: &rng))
        case .realNVP(let c): return AnyFlow(try RealNVP<S>(c, using: &rng))
        case .residualFlow(let c): return AnyFlow(try ResidualFlow<S>(c, using: &rng))
        case .multiscaleCNF(let c): return AnyFlow(try MultiscaleCNF<S>(c, using: &rng))
        case .imageRealNVP(let c): return AnyFlow(try ImageRealNVP<S>(c, using: &rng))
        case .unetCNF(let c): return AnyFlow(try UNetCNF<S>(c, using: &rng))
        }
    }
}
