import Foundation

/// One irregularly sampled multivariate series: observation times (strictly increasing), and
/// per time a value and an observed flag per feature (missing cells are unobserved).
public struct IrregularSeries: Sendable, Equatable {
    /// The series' `series_id`.
    public var id: String
    /// Observation times, strictly increasing.
    public var times: [Double]
    /// `values[i][f]`: feature `f` at `times[i]` (0 where unobserved).
    public var values: [[Double]]
    /// `mask[i][f]`: whether feature `f` was observed at `times[i]`.
    public var mask: [[Bool]]

    /// A series from its parts (not validated).
    public init(id: String, times: [Double], values: [[Double]], mask: [[Bool]]) {
        (self.id, self.times, self.values, self.mask) = (id, times, values, mask)
    }

    /// Number of features (0 for a series without observations).
    public var featureCount: Int { values.first?.count ?? 0 }
}

/// The user's own irregular time series: CSV with the header `series_id,time,feature_1,…`, one
/// observation per row. Series need not share times; an empty feature cell is a missing value.
/// Rows of one series must have strictly increasing times.
public enum TimeSeriesCSV {
    /// Reads and parses the file at `path`; series in order of first appearance.
    ///
    /// - Throws: ``DataError`` naming the file and line: missing file, bad header, ragged row,
    ///   non-numeric or non-finite cell, times that do not increase within a series.
    public static func load(path: String) throws -> [IrregularSeries] {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "cannot be read")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses the CSV text; errors name the file, the line and what was expected.
    public static func parse(_ text: String, path: String) throws -> [IrregularSeries] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard lines.count >= 2 else { throw DataError.empty(path) }
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard header.count >= 3, header[0] == "series_id", header[1] == "time" else {
            throw DataError.unreadable(
                path: path, reason: "line 1: the header must be series_id,time,feature_1,… (got '\(lines[0].prefix(60))')")
        }
        let features = header.count - 2
        var order: [String] = []
        var series: [String: IrregularSeries] = [:]
        for (index, line) in lines.dropFirst().enumerated() {
            let lineNumber = index + 2
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else {
                throw DataError.ragged(path: path, line: lineNumber, expected: header.count, found: cells.count)
            }
            let id = cells[0]
            guard !id.isEmpty else {
                throw DataError.unreadable(path: path, reason: "line \(lineNumber): empty series_id")
            }
            guard let time = Double(cells[1]) else {
                throw DataError.notNumeric(path: path, line: lineNumber, column: 2, text: cells[1])
            }
            guard time.isFinite else { throw DataError.nonFinite(path: path, line: lineNumber, column: 2) }
            var values = [Double](repeating: 0, count: features)
            var observed = [Bool](repeating: false, count: features)
            for f in 0..<features {
                let cell = cells[2 + f]
                if cell.isEmpty { continue }
                guard let v = Double(cell) else {
                    throw DataError.notNumeric(path: path, line: lineNumber, column: 3 + f, text: cell)
                }
                guard v.isFinite else { throw DataError.nonFinite(path: path, line: lineNumber, column: 3 + f) }
                values[f] = v
                observed[f] = true
            }
            if series[id] == nil {
                order.append(id)
                series[id] = IrregularSeries(id: id, times: [], values: [], mask: [])
            }
            if let previous = series[id]!.times.last, time <= previous {
                throw DataError.unreadable(
                    path: path,
                    reason: "line \(lineNumber): time \(cells[1]) of series '\(id)' does not increase (previous \(previous)); sort each series by time and merge duplicate times")
            }
            series[id]!.times.append(time)
            series[id]!.values.append(values)
            series[id]!.mask.append(observed)
        }
        return order.map { series[$0]! }
    }
}
