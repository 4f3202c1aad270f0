// Separability: how well a layer's embeddings tell groups apart — the mean distance between group
// centroids over the mean distance of samples to their own centroid (a Fisher-style ratio), on
// L2-normalised vectors. Used to choose default embedding layers by measurement.

/// Between-group over within-group spread of embeddings.
public struct Separability: Sendable {
    /// Mean distance between group centroids.
    public var between: Double
    /// Mean distance of a sample to its group centroid.
    public var within: Double
    /// between / within: higher separates better.
    public var ratio: Double { within > 0 ? between / within : .infinity }

    /// Measures `groups` (each a list of equally long vectors); vectors are L2-normalised first.
    public init(groups: [[[Float]]]) {
        func normalised(_ vector: [Float]) -> [Double] {
            let norm = vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return vector.map { norm > 0 ? Double($0) / norm : 0 }
        }
        func distance(_ a: [Double], _ b: [Double]) -> Double {
            zip(a, b).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        }
        let groups = groups.map { $0.map(normalised) }
        let centroids: [[Double]] = groups.map { group in
            var sum = [Double](repeating: 0, count: group.first?.count ?? 0)
            for vector in group { for index in sum.indices { sum[index] += vector[index] } }
            return sum.map { $0 / Double(max(group.count, 1)) }
        }
        var withinTotal = 0.0
        var withinCount = 0
        for (group, centroid) in zip(groups, centroids) {
            for vector in group {
                withinTotal += distance(vector, centroid)
                withinCount += 1
            }
        }
        var betweenTotal = 0.0
        var betweenCount = 0
        for first in 0..<centroids.count {
            for second in (first + 1)..<centroids.count {
                betweenTotal += distance(centroids[first], centroids[second])
                betweenCount += 1
            }
        }
        within = withinCount > 0 ? withinTotal / Double(withinCount) : 0
        between = betweenCount > 0 ? betweenTotal / Double(betweenCount) : 0
    }
}
