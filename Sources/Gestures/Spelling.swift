// Spelling: "did you mean …?" for names people type — config keys and sections (Settings) and gesture
// labels (`LabelSet`, so `samples add lefft` and the daemon's `record lefft` suggest "left" alike).
// Optimal string alignment distance (insert, delete, substitute, swap adjacent), O(n·m) for short names.

/// "Did you mean …?" support: edit distance and the nearest candidate.
public enum Spelling {
    /// Edits that turn `source` into `target`: insert, delete, substitute, or swap two adjacent characters
    /// (optimal string alignment distance, so the typo "widht" is one edit from "width").
    public static func editDistance(_ source: String, _ target: String) -> Int {
        let source = Array(source)
        let target = Array(target)
        if source.isEmpty { return target.count }
        if target.isEmpty { return source.count }
        // distance[i][j]: edits between the first i characters of source and the first j of target.
        var distance = [[Int]](repeating: [Int](repeating: 0, count: target.count + 1), count: source.count + 1)
        for i in 0...source.count { distance[i][0] = i }
        for j in 0...target.count { distance[0][j] = j }
        for i in 1...source.count {
            for j in 1...target.count {
                let cost = source[i - 1] == target[j - 1] ? 0 : 1
                distance[i][j] = min(distance[i - 1][j] + 1, distance[i][j - 1] + 1, distance[i - 1][j - 1] + cost)
                if i > 1, j > 1, source[i - 1] == target[j - 2], source[i - 2] == target[j - 1] {
                    distance[i][j] = min(distance[i][j], distance[i - 2][j - 2] + 1)
                }
            }
        }
        return distance[source.count][target.count]
    }

    /// The candidate nearest to `word` if it is close enough to be a typo — at most one edit per three
    /// characters (at least one) — so "dwel_ms" finds "dwell_ms" but "jump" does not find "up".
    /// Ties go to the earlier candidate.
    public static func suggestion(for word: String, among candidates: [String]) -> String? {
        let limit = max(1, word.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.candidate
    }
}
