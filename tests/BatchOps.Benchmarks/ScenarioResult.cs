namespace BatchOps.Benchmarks;

/// <summary>One scenario's figures: what was measured, against which baseline, and the ratio to the goal.</summary>
public sealed record ScenarioResult(
    string Scenario,
    string Measure,
    double Value,
    string BaselineMeasure,
    double Baseline,
    double Ratio,
    string Goal,
    bool GoalMet,
    IReadOnlyDictionary<string, double> Figures);
