import Foundation
import Testing
import Laminar

/// Where commands write, what they say about it, and which data they score.
@Suite(.serialized) struct OutputTests {
    /// `sample --trajectory DIR` writes its frames into DIR only and prints clean paths.
    @Test func trajectoryWritesOnlyIntoItsDirectory() throws {
        let dir = try CLI.temporaryDirectory()
        let train = try CLI.run(["train", "--data", "8gaussians", "--iters", "2", "--out", "\(dir)/run"] + CLI.small)
        #expect(train.status == 0, "\(train.stderr)")
        let work = "\(dir)/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let r = try CLI.run(["sample", "--checkpoint", "\(dir)/run/checkpoint.safetensors", "--trajectory", "frames/",
                             "--frames", "3", "--n", "200"], in: work)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work) == ["frames"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(work)/frames").sorted()
            == ["frame-000.png", "frame-001.png", "frame-002.png", "frame-003.png"])
        #expect(!r.stderr.contains("//") && r.stderr.contains("frames/frame-000.png"), "\(r.stderr)")
    }

    /// A points file is split: training sees 90 % of the rows, `evaluate` scores the other 10 %
    /// and says so; another file is scored whole.
    @Test func evaluateScoresTheHeldOutRowsOfAPointsFile() throws {
        let dir = try CLI.temporaryDirectory()
        var csv = "x,y\n"
        for i in 0..<200 { csv += "\(sin(Double(i))),\(cos(Double(i) * 0.7))\n" }
        try csv.write(toFile: "\(dir)/points.csv", atomically: true, encoding: .utf8)
        let train = try CLI.run(["train", "--data", "\(dir)/points.csv", "--iters", "2", "--out", "\(dir)/run"] + CLI.small)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("180 training rows, 20 held out"), "\(train.stderr)")
        let held = try CLI.run(["evaluate", "--checkpoint", "\(dir)/run/checkpoint.safetensors"])
        #expect(held.status == 0 && held.stdout.contains("points: 20 (held-out test split"), "\(held.stdout) \(held.stderr)")
        try "x,y\n0,0\n1,1\n".write(toFile: "\(dir)/other.csv", atomically: true, encoding: .utf8)
        let other = try CLI.run(["evaluate", "--checkpoint", "\(dir)/run/checkpoint.safetensors", "--data", "\(dir)/other.csv"])
        #expect(other.status == 0 && other.stdout.contains("points: 2 (all rows of"), "\(other.stdout) \(other.stderr)")
        let none = try CLI.run(["train", "--data", "\(dir)/points.csv", "--iters", "1", "--test-fraction", "0",
                                "--out", "\(dir)/all"] + CLI.small)
        #expect(none.status == 0, "\(none.stderr)")
        let whole = try CLI.run(["evaluate", "--checkpoint", "\(dir)/all/checkpoint.safetensors"])
        #expect(whole.stdout.contains("points: 200 (all rows of") && whole.stdout.contains("training data"), "\(whole.stdout)")
        let bad = try CLI.run(["train", "--data", "\(dir)/points.csv", "--test-fraction", "1", "--out", "\(dir)/bad"])
        #expect(bad.status == 2 && bad.stderr.contains("--test-fraction"), "\(bad.stderr)")
    }

    /// `compare` on a density task reports KL(q‖p) in its progress and its table alike (the
    /// training loss is KL − log Z and may be negative; the KL is not).
    @Test func compareReportsKLConsistently() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try CLI.run(["compare", "--targets", "u1", "--depths", "2", "--widths", "1", "--iters", "4", "--batch", "32",
                             "--evaluation-samples", "50", "--resolution", "16", "--rtol", "1e-3", "--atol", "1e-3", "--out", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let progress = r.stderr.split(separator: "\n").filter { $0.contains("KL(q‖p) ") && $0.contains("/4") }
        #expect(!progress.isEmpty, "\(r.stderr)")
        #expect(!r.stderr.contains(" loss "), "\(r.stderr)")
        #expect(r.stdout.contains("KL / NLL (nats)"), "\(r.stdout)")
    }
}
