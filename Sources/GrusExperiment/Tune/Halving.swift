/// Successive halving (Jamieson & Talwalkar 2016; the synchronous form of ASHA): every trial
/// trains for a short fraction of the full length, the best 1/eta go on to a run eta times
/// longer, and so on until the last rung trains the survivors for the recipe's full length.
public struct HalvingPlan: Equatable, Codable, Sendable {
    public var trials: Int, eta: Int, rungs: Int

    public init(trials: Int, eta: Int, rungs: Int) {
        self.trials = trials
        self.eta = eta
        // No more rungs than halvings the trials allow: each rung keeps at least one trial.
        var r = 1, n = trials
        while r < rungs && n / eta >= 1 { n /= eta; r += 1 }
        self.rungs = r
    }

    /// Trials trained at rung `k` (0 is the first).
    public func size(_ k: Int) -> Int {
        var n = trials
        for _ in 0..<k { n = max(1, n / eta) }
        return n
    }

    /// The share of the full length rung `k` trains for: 1/eta^(rungs-1-k).
    public func fraction(_ k: Int) -> Double {
        var f = 1.0
        for _ in k..<(rungs - 1) { f /= Double(eta) }
        return f
    }

    /// Full runs' worth of training the whole plan takes.
    public var cost: Double { (0..<rungs).reduce(0) { $0 + Double(size($1)) * fraction($1) } }
}

/// One trial's result at a rung.
public struct RungResult: Codable, Equatable, Sendable {
    public var trial: Int, rung: Int
    /// The dev metric (higher is better), nil when the run failed.
    public var score: Double?
    public var loss: Double?
    public var seconds: Double
    /// Why the run failed (its last error line).
    public var failure: String?

    public init(trial: Int, rung: Int, score: Double?, loss: Double?, seconds: Double, failure: String? = nil) {
        (self.trial, self.rung, self.score, self.loss, self.seconds, self.failure) = (trial, rung, score, loss, seconds, failure)
    }

    /// Best first: the higher score, then the lower dev loss, then the lower trial number.
    public static func better(_ a: RungResult, _ b: RungResult) -> Bool {
        let sa = a.score ?? -.infinity, sb = b.score ?? -.infinity
        if sa != sb { return sa > sb }
        let la = a.loss ?? .infinity, lb = b.loss ?? .infinity
        if la != lb { return la < lb }
        return a.trial < b.trial
    }
}

extension HalvingPlan {
    /// The trials that go on to rung `k + 1`: the best `size(k + 1)` of rung k that did not fail.
    public func promoted(from results: [RungResult], rung k: Int) -> [Int] {
        results.filter { $0.rung == k && $0.score != nil }.sorted(by: RungResult.better).prefix(size(k + 1)).map(\.trial)
    }
}
