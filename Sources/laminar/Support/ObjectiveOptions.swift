import ArgumentParser
import Foundation
import Laminar

/// Flags that choose the training objective of `laminar train`: maximum likelihood (default)
/// or flow matching with its path and coupling.
struct ObjectiveOptions: ParsableArguments {
    @Option(help: "Training objective: likelihood (integrate the flow, the default) or flow-matching (regress the CNF's vector field; no ODE solve).")
    var objective: String = "likelihood"

    @Option(help: "Flow matching: probability path condot (straight lines, default), vp or cosine.")
    var path: String?

    @Option(name: .customLong("sigma-min"), help: "Flow matching: σ_min of the condot path (default 1e-4).")
    var sigmaMin: Double?

    @Option(help: "Flow matching: coupling of noise and data: independent (default), ot (exact minibatch OT), sinkhorn (entropic OT, --ot-reg), reflow (a teacher's noise→sample pairs, --teacher).")
    var coupling: String?

    @Option(name: .customLong("ot-reg"), help: "Flow matching, --coupling sinkhorn: entropic regularization relative to the batch's largest squared distance (default 0.05).")
    var otReg: Double?

    @Option(help: "Flow matching, --coupling reflow: checkpoint of the teacher model.")
    var teacher: String?

    var isFlowMatching: Bool { objective == "flow-matching" }

    func validate() throws {
        guard ["likelihood", "flow-matching"].contains(objective) else {
            throw ValidationError("--objective must be likelihood or flow-matching, got '\(objective)'")
        }
        if !isFlowMatching {
            let given = [("--path", path != nil), ("--sigma-min", sigmaMin != nil), ("--coupling", coupling != nil),
                         ("--ot-reg", otReg != nil), ("--teacher", teacher != nil)].filter(\.1).map(\.0)
            if let flag = given.first {
                throw ValidationError("\(flag) is a flow-matching setting; add --objective flow-matching")
            }
            return
        }
        if let path, PathScheduler(rawValue: path) == nil {
            throw ValidationError("--path must be condot, vp or cosine, got '\(path)'")
        }
        if let coupling, CouplingKind(rawValue: coupling) == nil {
            throw ValidationError("--coupling must be independent, ot, sinkhorn or reflow, got '\(coupling)'")
        }
        do { try configuration.validate() } catch { throw ValidationError("\(error)") }
        if let teacher, !FileManager.default.fileExists(atPath: teacher) {
            throw ValidationError("--teacher: no file at \(teacher)")
        }
    }

    /// The flow-matching settings these flags describe.
    var configuration: FlowMatchingConfiguration {
        FlowMatchingConfiguration(
            path: ProbabilityPath(scheduler: path.flatMap(PathScheduler.init(rawValue:)) ?? .condot, sigmaMin: sigmaMin ?? 1e-4),
            coupling: coupling.flatMap(CouplingKind.init(rawValue:)) ?? .independent,
            otRegularization: otReg ?? 0.05, teacher: teacher)
    }

    /// The objective to train with (nil: maximum likelihood); loads the reflow teacher.
    func makeObjective(dimension: Int) throws -> (any TrainingObjective<Float>)? {
        guard isFlowMatching else { return nil }
        var teacherFlow: AnyFlow<Float>? = nil
        if let teacher {
            teacherFlow = try ModelStore.load(from: URL(fileURLWithPath: teacher)).flow
            guard teacherFlow!.dimension == dimension else {
                throw ValidationError("--teacher: \(teacher) models \(teacherFlow!.dimension)-D data, the training data are \(dimension)-D")
            }
        }
        return try FlowMatching<Float>(configuration, teacher: teacherFlow)
    }
}

extension ObjectiveOptions {
    /// The model settings adjusted to the objective: flow matching fixes T (the regression does
    /// not determine it), so continuous models are built with a fixed T.
    func adjusted(_ spec: ModelSpec) -> ModelSpec {
        guard isFlowMatching else { return spec }
        switch spec {
        case .ffjord(var c):
            c.trainTime = false
            return .ffjord(c)
        case .multiscaleCNF(var c):
            c.trainTime = false
            return .multiscaleCNF(c)
        default:
            return spec
        }
    }
}
