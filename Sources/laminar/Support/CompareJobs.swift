import Foundation
import Laminar

/// One trained model of `laminar compare`: its table row and density panel, tagged with its
/// place in the comparison and the rank that trained it. Under mpirun the models are dealt out
/// round-robin over the ranks and the results gathered on every rank.
struct CompareJobResult: Codable {
    var index: Int
    var rank: Int
    var row: ComparisonRow
    var label: String
    var width: Int
    var height: Int
    var pixels: Data

    init(index: Int, rank: Int, row: ComparisonRow, panel: ComparePictures.Panel) {
        (self.index, self.rank, self.row, self.label) = (index, rank, row, panel.label)
        (width, height, pixels) = (panel.image.width, panel.image.height, Data(panel.image.pixels))
    }

    var panel: ComparePictures.Panel {
        var image = RGBImage(width: width, height: height)
        image.pixels = [UInt8](pixels)
        return ComparePictures.Panel(label: label, image: image)
    }

    /// Whether job `index` of the comparison is this rank's.
    static func isMine(_ index: Int, _ world: any Communicator) -> Bool { index % world.size == world.rank }

    /// Every rank's results on every rank, in job order; checks that each of the `count` jobs
    /// came back exactly once.
    static func gather(_ mine: [CompareJobResult], count: Int, over world: any Communicator) throws -> [CompareJobResult] {
        let parts = try world.allGather(bytes: Array(try JSONEncoder().encode(mine)))
        let all = try parts.flatMap { try JSONDecoder().decode([CompareJobResult].self, from: Data($0)) }
            .sorted { $0.index < $1.index }
        guard all.map(\.index) == Array(0..<count) else {
            throw DistributedError.mismatch("compare expected results of models 0..<\(count), got \(all.map(\.index))")
        }
        return all
    }
}
