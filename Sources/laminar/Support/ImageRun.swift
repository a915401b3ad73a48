import ArgumentParser
import Foundation
import Laminar

/// What an image run stores in its checkpoint besides the model: the preprocessing (so that
/// evaluation dequantizes and transforms exactly as training did), the image shape and where
/// the data came from.
struct ImageRunMetadata {
    var preprocessing: ImagePreprocessing
    var height: Int
    var width: Int
    var dataDirectory: String?
    var limit: Int?

    func entries() throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var out = [
            "preprocessing": String(decoding: try encoder.encode(preprocessing), as: UTF8.self),
            "image_shape": "1x\(height)x\(width)",
        ]
        if let dataDirectory { out["data_dir"] = dataDirectory }
        if let limit { out["limit"] = String(limit) }
        return out
    }

    /// The image settings of a checkpoint's metadata; nil for non-image runs.
    init?(metadata: [String: String]) throws {
        guard let json = metadata["preprocessing"] else { return nil }
        do {
            preprocessing = try JSONDecoder().decode(ImagePreprocessing.self, from: Data(json.utf8))
        } catch {
            throw LaminarCLIError("the checkpoint's preprocessing metadata does not parse: \(error)")
        }
        let parts = (metadata["image_shape"] ?? "").split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else {
            throw LaminarCLIError("the checkpoint's image_shape metadata '\(metadata["image_shape"] ?? "")' is not CxHxW")
        }
        (height, width) = (parts[1], parts[2])
        dataDirectory = metadata["data_dir"]
        limit = metadata["limit"].flatMap { Int($0) }
    }

    init(preprocessing: ImagePreprocessing, height: Int, width: Int, dataDirectory: String?, limit: Int?) {
        (self.preprocessing, self.height, self.width, self.dataDirectory, self.limit) = (preprocessing, height, width, dataDirectory, limit)
    }
}

/// `summary.json` of an image run.
struct ImageRunSummary: Codable {
    var model: String
    var summary: String
    var parameters: Int
    var iterations: Int
    var trainingSeconds: Double
    var stoppedAtTimeBudget: Bool
    var secondsPerIteration: Double?
    var trainNFEForward: Double?
    var trainNFEBackward: Double?
    /// Mean training bits/dim over the last iterations (training estimator).
    var trainBitsPerDimension: Double?
    var testImages: Int?
    var testBitsPerDimension: Double?
    var testStandardError: Double?
    var testExactTrace: Bool?
    /// Forward NFE per evaluated batch of 100 images.
    var testNFE: Double?
}

/// `90s`, `60m`, `2h`, `1.5h` or plain seconds → seconds; nil when malformed or not positive.
func parseDuration(_ text: String) -> Double? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("min", 60), ("h", 3600)]
    let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
    for (suffix, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where trimmed.hasSuffix(suffix) {
        guard let value = Double(trimmed.dropLast(suffix.count)), value > 0, value.isFinite else { return nil }
        return value * scale
    }
    guard let value = Double(trimmed), value > 0, value.isFinite else { return nil }
    return value
}
