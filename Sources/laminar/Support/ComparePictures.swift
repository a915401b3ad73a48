import Foundation
import Laminar

/// Tables and pictures of `laminar compare`.
enum ComparePictures {
    /// One labelled density picture.
    struct Panel {
        var label: String
        var image: RGBImage
    }

    static let range = 4.0

    static func label(_ spec: ModelSpec) -> String {
        switch spec {
        case .planar(let c): return "NF K=\(c.depth)"
        case .planarCNF(let c): return "CNF M=\(c.width)"
        case .realNVP, .imageRealNVP: return "Real NVP"
        case .residualFlow(let c): return "ResFlow K=\(c.depth)"
        case .ffjord: return "FFJORD"
        case .multiscaleCNF: return "multiscale FFJORD"
        case .unetCNF: return "U-Net CNF"
        }
    }

    static func scale(_ resolution: Int) -> Int { max(1, 160 / resolution) }

    /// The target: `exp(−E)/Z` for energies, the closed-form density or a histogram of samples
    /// for toy data.
    static func targetPanel(_ task: ComparisonTask, resolution: Int) -> Panel {
        switch task {
        case .density(let energy):
            let logZ = energy.logNormalizer()
            let grid = energy.logDensityGrid(low: -range, high: range, resolution: resolution)
            return Panel(label: "target", image: Heatmap.render(
                grid.map { Foundation.exp($0 - logZ) }, rows: resolution, cols: resolution, scale: scale(resolution)))
        case .likelihood(let toy):
            if toy.logDensity(x: 0, y: 0) != nil {
                let grid = DensityGrid.tabulate(low: -range, high: range, resolution: resolution) { toy.logDensity(x: $0, y: $1)! }
                return Panel(label: "data", image: Heatmap.render(
                    grid.logDensity.map(Foundation.exp), rows: resolution, cols: resolution, scale: scale(resolution)))
            }
            var rng = RandomGenerator(seed: 12_345)
            let points: Tensor<Double> = toy.sample(100_000, using: &rng)
            let v = points.scalars
            let n = points.shape[0]
            return Panel(label: "data", image: Heatmap.histogram(
                x: (0..<n).map { v[2 * $0] }, y: (0..<n).map { v[2 * $0 + 1] }, low: -range, high: range,
                bins: resolution, scale: scale(resolution)))
        }
    }

    static func modelPanel(_ flow: AnyFlow<Float>, label: String, resolution: Int) throws -> Panel {
        let grid = try DensityGrid.evaluate(flow, low: -range, high: range, resolution: resolution)
        return Panel(label: label, image: Heatmap.render(
            grid.logDensity.map(Foundation.exp), rows: resolution, cols: resolution, scale: scale(resolution)))
    }

    /// Rows of panels with their labels above, the row label on the left and what the panels
    /// show below.
    static func grid(_ rows: [[Panel]], rowLabels: [String]) -> RGBImage {
        let cell = rows.first?.first?.image.width ?? 160
        let gap = 8, header = 16, left = 90
        let columns = rows.map(\.count).max() ?? 1
        let footer = BitmapFont.lineHeight + 8
        var image = RGBImage(
            width: left + columns * (cell + gap), height: rows.count * (cell + header + gap) + gap + footer)
        image.drawText(
            "each panel: density on [-\(Int(range)), \(Int(range))]² (x right, y up), viridis, own colour scale (dark = 0)",
            x: 6, y: image.height - footer + 2, color: RGB(60, 60, 60))
        for (r, row) in rows.enumerated() {
            let y = gap + r * (cell + header + gap)
            image.drawText(rowLabels[r], x: 6, y: y + header + cell / 2 - 4)
            for (c, panel) in row.enumerated() {
                let x = left + c * (cell + gap)
                image.drawText(panel.label, centerX: x + cell / 2, y: y + 2)
                image.paste(panel.image, x: x, y: y + header)
            }
        }
        return image
    }

    /// Loss against K (planar flows, dashed, squares) and M (planar CNFs, solid, diamonds), one
    /// colour per target.
    static func chart(_ results: [ComparisonRow], tasks: [ComparisonTask]) -> RGBImage {
        var series: [ChartSeries] = []
        for (i, task) in tasks.enumerated() {
            let color = LineChart.palette[i % LineChart.palette.count]
            for (model, name, dashed, square) in [
                ("planar", "NF depth K", true, true), ("planar-cnf", "CNF width M", false, false),
                ("resflow", "resflow depth K", true, false),
            ] {
                let matching: [ComparisonRow] = results.filter { $0.target == task.target && $0.model == model }
                let rows = matching.sorted { $0.size < $1.size }
                guard !rows.isEmpty else { continue }
                let xs: [Double] = rows.map { Double($0.size) }
                let ys: [Double] = rows.map { $0.loss }
                series.append(ChartSeries(
                    name: "\(task.target) \(name)", xs: xs, ys: ys, color: color, dashed: dashed, squareMarkers: square))
            }
        }
        let metric = tasks.first?.metric ?? "loss"
        let onlyKL = tasks.allSatisfy { if case .density = $0 { return true } else { return false } }
        return LineChart.render(
            title: "\(metric) against depth K and width M", xLabel: "K (planar or residual flow) or M (planar CNF)",
            yLabel: metric, series: series, logX: true, yRange: onlyKL ? 0...0 : nil)  // a KL is ≥ 0: show the zero
    }

    static func table(_ results: [ComparisonRow], tasks: [ComparisonTask]) -> String {
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = [pad("task", 11) + pad("target", 14) + pad("model", 11) + right("K/M", 4) + right("parameters", 12)
            + right("KL / NLL (nats)", 20) + right("NFE", 6) + right("seconds", 9)]
        for r in results {
            lines.append(
                pad(r.task, 11) + pad(r.target, 14) + pad(r.model, 11) + right(r.size > 0 ? String(r.size) : "-", 4)
                    + right(String(r.parameters), 12)
                    + right(String(format: "%.4f ± %.4f", r.loss, r.standardError), 20) + right(String(r.nfe), 6)
                    + right(String(format: "%.1f", r.seconds), 9))
        }
        return lines.joined(separator: "\n")
    }

    static func csv(_ results: [ComparisonRow]) -> String {
        var lines = ["task,target,model,size,parameters,loss,standard_error,nfe,seconds"]
        for r in results {
            lines.append("\(r.task),\(r.target),\(r.model),\(r.size),\(r.parameters),\(r.loss),\(r.standardError),\(r.nfe),\(r.seconds)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
