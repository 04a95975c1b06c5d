using System.Globalization;
using System.Text.Json;
using BatchOps.Benchmarks;

// dotnet run -c Release --project tests/BatchOps.Benchmarks -- [--scenario NAME] [--quick] [--json FILE]
var quick = args.Contains("--quick");
var only = args.SkipWhile(a => a != "--scenario").Skip(1).FirstOrDefault();
var json = args.SkipWhile(a => a != "--json").Skip(1).FirstOrDefault();
var work = Path.Combine(Path.GetTempPath(), "batchops-bench-" + Environment.ProcessId);
Directory.CreateDirectory(work);
var scenarios = new Scenarios(quick, work);
var all = new (string Name, Func<Task<ScenarioResult>> Run)[]
{
    ("overhead", scenarios.OverheadAsync),
    ("durable", scenarios.DurableAsync),
    ("metrics", scenarios.MetricsOverheadAsync),
    ("metrics-db", scenarios.MetricsDurableAsync),
    ("packing", scenarios.PackingAsync),
    ("create", scenarios.CreateAsync),
    ("io", scenarios.IoAsync),
    ("bisection", scenarios.BisectionAsync),
    ("memory", scenarios.MemoryAsync),
    ("ratelimit", scenarios.RateLimitAsync),
    ("sql-insert", scenarios.SqlInsertAsync),
    ("sql-upsert", scenarios.SqlUpsertAsync),
    ("sqlite-insert", scenarios.SqliteInsertAsync),
    ("sql-memory", scenarios.SqlMemoryAsync),
    ("sql-cli-memory", scenarios.SqlCliMemoryAsync),
    ("dashboard", scenarios.DashboardAsync),
    ("dashboard-pg", scenarios.DashboardPostgresAsync),
    ("workers-scale", scenarios.WorkersScaleAsync),
    ("workers-noop", scenarios.WorkersNoopAsync),
};
if (only is not null && all.All(s => s.Name != only))
{
    Console.Error.WriteLine($"Unknown scenario '{only}'. Scenarios: {string.Join(", ", all.Select(s => s.Name))}.");
    return 2;
}

Console.WriteLine($"BatchOps benchmarks{(quick ? " (quick: scaled down, no goals judged)" : string.Empty)} on {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"{"scenario",-10} {"measure",-24} {"value",14} {"baseline",-32} {"value",14} {"ratio",8}  goal");
var results = new List<ScenarioResult>();
foreach (var (name, run) in all.Where(s => only is null || s.Name == only))
{
    var r = await run();
    results.Add(r);
    var verdict = quick ? "-" : r.GoalMet ? "met" : "MISSED";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{r.Scenario,-10} {r.Measure,-24} {r.Value,14:N1} {r.BaselineMeasure,-32} {r.Baseline,14:N1} {r.Ratio,8:F3}  {r.Goal} {verdict}"));
    foreach (var (key, value) in r.Figures)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"",-10}   {key}: {value:N3}"));
    }
}

if (json is not null)
{
    await File.WriteAllTextAsync(json, JsonSerializer.Serialize(results, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
}

await scenarios.DisposeSqlAsync();
Directory.Delete(work, recursive: true);
return 0;
