import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar compare`: planar flows of depth K against planar CNFs of width M.
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare discrete planar flows (depth K) with planar CNFs (width M) on the same tasks and budget; optionally residual flows (depth K), Real NVP and FFJORD.",
            discussion: """
                Reproduces Figure 4 of the Neural ODE paper. --task density fits the unnormalized \
                target energies (u1…u4 of Rezende & Mohamed, or 8gaussians) by minimising KL(q‖p); \
                --task likelihood fits samples of toy data sets by maximum likelihood. Writes \
                results.csv, results.json, panels.png and chart.png into --out.
                """)

        @Option(help: "density (KL to a target energy) or likelihood (samples of toy data).")
        var task: String = "density"

        @Option(help: "Comma-separated targets: energies u1,u2,u3,u4,8gaussians (density) or toy data sets (likelihood). Default: u1,u2,u3,u4 or 8gaussians,checkerboard,2spirals.")
        var targets: String?

        @Option(help: "Planar-flow depths K.")
        var depths: String = "1,2,8,32"

        @Option(help: "Planar-CNF widths M.")
        var widths: String = "1,2,8,32"

        @Option(name: .customLong("resflow-depths"), help: "Residual-flow depths K (comma-separated; none by default): i-ResNet blocks with spectral normalisation, the discrete counterpart of a CNF.")
        var resflowDepths: String?

        @Option(name: .customLong("resflow-hidden"), help: "Hidden widths of every residual block's network.")
        var resflowHidden: String = "32-32"

        @Option(name: .customLong("with"), help: "Extra rows at the parameter count of the widest planar CNF: realnvp, ffjord (comma-separated).")
        var extra: String?

        @Option(parsing: .unconditional, help: "Training iterations per model.")
        var iters: Int = 2_000

        @Option(help: "Batch size.")
        var batch: Int = 256

        @Option(help: "Adam learning rate.")
        var lr: Double = 1e-3

        @OptionGroup var solve: SolverOptions

        @Option(help: "Samples for the final KL / NLL estimate.")
        var evaluationSamples: Int = 5_000

        @Option(help: "Grid points per axis of the density panels.")
        var resolution: Int = 80

        @Option(help: "Output directory.")
        var out: String = "runs/compare"

        @OptionGroup var runtime: RuntimeOptions

        func validate() throws {
            _ = try parsedTasks()
            _ = try positiveList(depths, flag: "--depths")
            _ = try positiveList(widths, flag: "--widths")
            _ = try extras()
            _ = try residualSpecs()
            guard iters >= 1 else { throw ValidationError("--iters must be ≥ 1, got \(iters)") }
            guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1, got \(batch)") }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be > 0, got \(lr)") }
            guard evaluationSamples >= 10 else { throw ValidationError("--evaluation-samples must be ≥ 10") }
            guard resolution >= 8, resolution <= 400 else { throw ValidationError("--resolution must be in 8…400") }
            try requireWritableDirectory(out, flag: "--out")
        }

        func parsedTasks() throws -> [ComparisonTask] {
            switch task {
            case "density":
                return try targets(default: "u1,u2,u3,u4", kind: "target energy", TargetEnergy.self).map { .density($0) }
            case "likelihood":
                return try targets(default: "8gaussians,checkerboard,2spirals", kind: "toy data set", ToyDataset.self).map { .likelihood($0) }
            default:
                throw ValidationError("--task must be density or likelihood, got '\(task)'")
            }
        }

        /// The `--targets` names (or `fallback`) as values of `T`; an unknown name is a usage
        /// error naming the `kind` and the known names.
        private func targets<T: RawRepresentable & CaseIterable>(
            default fallback: String, kind: String, _: T.Type
        ) throws -> [T] where T.RawValue == String {
            try (targets ?? fallback).split(separator: ",").map { part in
                let name = part.trimmingCharacters(in: .whitespaces)
                guard let value = T(rawValue: name) else {
                    throw ValidationError("--targets: unknown \(kind) '\(name)'; use \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return value
            }
        }

        func positiveList(_ text: String, flag: String) throws -> [Int] {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, values.allSatisfy({ $0 != nil && $0! > 0 }) else {
                throw ValidationError("\(flag) must be a comma-separated list of positive integers, e.g. 1,2,8,32; got '\(text)'")
            }
            return values.map { $0! }
        }

        /// One residual flow per `--resflow-depths` entry (exact log-determinant for the 2-D tasks).
        func residualSpecs() throws -> [ModelSpec] {
            guard let resflowDepths else { return [] }
            let hidden: [Int]
            do { hidden = try parseHiddenDims(resflowHidden) } catch { throw ValidationError("--resflow-hidden: \(error)") }
            return try positiveList(resflowDepths, flag: "--resflow-depths").map {
                .residualFlow(ResidualFlowConfiguration(dimension: 2, depth: $0, hidden: hidden))
            }
        }

        func extras() throws -> [String] {
            guard let extra else { return [] }
            let names = extra.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            for n in names where n != "realnvp" && n != "ffjord" {
                throw ValidationError("--with: '\(n)' is not available; use realnvp and/or ffjord")
            }
            return names
        }

        func run() throws {
            runtime.apply()
            SignalFlag.install()
            let seed = runtime.seed(default: 0)
            let settings = solve.settings(defaults: SolveSettings())
            let tasks = try parsedTasks()
            let depthList = try positiveList(depths, flag: "--depths")
            let widthList = try positiveList(widths, flag: "--widths")
            let directory = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let comparison = ComparisonSettings(
                iterations: iters, batchSize: batch, learningRate: lr, seed: seed, evaluationSamples: evaluationSamples)
            var specs: [ModelSpec] = depthList.map { .planar(PlanarFlowConfiguration(dimension: 2, depth: $0)) }
            specs += widthList.map {
                .planarCNF(PlanarCNFConfiguration(dimension: 2, width: $0, solve: settings))
            }
            specs += try residualSpecs()
            if let widest = widthList.max() {
                var rng = RandomGenerator(seed: 0)
                let reference: AnyFlow<Float> = try ModelSpec.planarCNF(PlanarCNFConfiguration(dimension: 2, width: widest)).build(using: &rng)
                for family in try extras() {
                    specs.append(try Comparison.matchingSpec(family, parameters: reference.parameterCount))
                }
            }
            // Under mpirun the models are dealt out over the ranks; rank 0 gathers and writes.
            let world = try DistributedRun.join()
            let jobs = tasks.flatMap { task in specs.map { (task, $0) } }
            var mine: [CompareJobResult] = []
            for (index, (task, spec)) in jobs.enumerated() where CompareJobResult.isMine(index, world) {
                let label = ComparePictures.label(spec)
                note("\(task): \(spec.summary)")
                let bar = ProgressBar(total: iters, logEvery: max(1, iters / 4))
                // The training loss of the density task is KL(q‖p) − log Z: shown as the KL the table reports.
                let offset: Double, name: String
                if case .density(let energy) = task { (offset, name) = (energy.logNormalizer(), "KL(q‖p)") } else { (offset, name) = (0, "NLL") }
                let (result, flow) = try Comparison.run(spec, task: task, settings: comparison) { i, loss in
                    bar.update(iteration: i, fields: [(name, String(format: "%.4f", loss + offset))])
                    if SignalFlag.isSet {
                        bar.finish()
                        throw CommandInterrupted("laminar compare stopped at iteration \(i) of \(spec.summary); no results were written")
                    }
                }
                bar.finish()
                note(summaryLine(label, task, result))
                mine.append(CompareJobResult(
                    index: index, rank: world.rank, row: result,
                    panel: try ComparePictures.modelPanel(flow, label: label, resolution: resolution)))
            }
            let all = try CompareJobResult.gather(mine, count: jobs.count, over: world)
            guard world.isRoot else { return }
            for job in all where job.rank != world.rank {
                note(summaryLine(job.label, jobs[job.index].0, job.row) + " (rank \(job.rank))")
            }
            let results = all.map(\.row)
            let panels: [[ComparePictures.Panel]] = tasks.enumerated().map { t, task in
                [ComparePictures.targetPanel(task, resolution: resolution)]
                    + all[(t * specs.count)..<((t + 1) * specs.count)].map(\.panel)
            }
            print(ComparePictures.table(results, tasks: tasks))
            let csv = directory.appendingPathComponent("results.csv")
            try AtomicFile.write(Array(ComparePictures.csv(results).utf8), to: csv)
            let json = directory.appendingPathComponent("results.json")
            try writeJSON(results, to: json)
            let panelPath = directory.appendingPathComponent("panels.png").path
            try PNG.write(ComparePictures.grid(panels, rowLabels: tasks.map(\.target)), to: panelPath)
            let chartPath = directory.appendingPathComponent("chart.png").path
            try PNG.write(ComparePictures.chart(results, tasks: tasks), to: chartPath)
            for path in [csv.path, json.path, panelPath, chartPath] { note("wrote \(path)") }
        }

        /// The one-line result of a model.
        private func summaryLine(_ label: String, _ task: ComparisonTask, _ result: ComparisonRow) -> String {
            String(format: "  %@: %@ %.4f ± %.4f, %d parameters, NFE %d, %.1f s", label, task.metric, result.loss,
                   result.standardError, result.parameters, result.nfe, result.seconds)
        }
    }
}
