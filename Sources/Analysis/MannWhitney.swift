import Foundation

/// The Mann-Whitney U test, which PipeCD's comparing strategies (PREVIOUS, CANARY_BASELINE, CANARY_PRIMARY) use to
/// decide whether one sample of values sits significantly higher or lower than another. Exact for small samples
/// without ties; the normal approximation with tie and continuity corrections otherwise.
public enum MannWhitney {
    public enum Alternative: Sendable { case greater, less, differs }

    /// PipeCD's significance level.
    public static let alpha = 0.05

    /// Whether `experiment` is acceptable against `control`: not significantly higher (HIGH), lower (LOW) or either
    /// (EITHER). Identical samples are acceptable; the p-value is nil then.
    public static func acceptable(experiment: [Double], control: [Double], deviation: Deviation) -> (ok: Bool, p: Double?) {
        let alternative: Alternative = deviation == .high ? .greater : deviation == .low ? .less : .differs
        guard let p = pValue(experiment, control, alternative: alternative) else { return (true, nil) }
        return (p > alpha, p)
    }

    /// The p-value of "x is greater / less / different than y"; nil when every value of both is the same.
    public static func pValue(_ x: [Double], _ y: [Double], alternative: Alternative) -> Double? {
        let n1 = x.count, n2 = y.count
        guard n1 > 0, n2 > 0 else { return nil }
        let pooled = (x.map { ($0, true) } + y.map { ($0, false) }).sorted { $0.0 < $1.0 }
        guard pooled.first!.0 != pooled.last!.0 else { return nil }
        // Ranks from 1, ties sharing their average rank; `ties` is Σ(t³ − t) over the groups of equal values.
        var rankSumX = 0.0, ties = 0.0
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where pooled[k].1 { rankSumX += rank }
            let t = Double(j - i + 1)
            ties += t * t * t - t
            i = j + 1
        }
        let u = rankSumX - Double(n1 * (n1 + 1)) / 2
        if ties == 0 && n1 <= 30 && n2 <= 30 {
            return exact(u: Int(u.rounded()), n1: n1, n2: n2, alternative: alternative)
        }
        return normal(u: u, n1: Double(n1), n2: Double(n2), ties: ties, alternative: alternative)
    }

    /// From the exact distribution of U: how many orderings of n1 x's and n2 y's give each U.
    static func exact(u: Int, n1: Int, n2: Int, alternative: Alternative) -> Double {
        // counts[m][n] is the distribution for m x's and n y's. The largest value is an x (beating all n y's) or a y.
        var counts = [[[Double]]](repeating: [[Double]](repeating: [1], count: n2 + 1), count: n1 + 1)
        for m in 1...n1 {
            for n in 1...n2 {
                var d = [Double](repeating: 0, count: m * n + 1)
                for (k, c) in counts[m - 1][n].enumerated() { d[k + n] += c }
                for (k, c) in counts[m][n - 1].enumerated() { d[k] += c }
                counts[m][n] = d
            }
        }
        let dist = counts[n1][n2]
        let total = dist.reduce(0, +)
        let atMost = dist[0...u].reduce(0, +) / total
        let atLeast = dist[u...].reduce(0, +) / total
        switch alternative {
        case .greater: return atLeast
        case .less: return atMost
        case .differs: return min(1, 2 * min(atMost, atLeast))
        }
    }

    static func normal(u: Double, n1: Double, n2: Double, ties: Double, alternative: Alternative) -> Double {
        let n = n1 + n2
        let mean = n1 * n2 / 2
        let sigma = (n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))).squareRoot()
        func upper(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }
        switch alternative {
        case .greater: return upper((u - mean - 0.5) / sigma)
        case .less: return upper((mean - u - 0.5) / sigma)
        case .differs: return min(1, 2 * upper((abs(u - mean) - 0.5) / sigma))
        }
    }
}
