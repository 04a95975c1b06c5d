using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime;
using BatchOps.Packager;

// dotnet run -c Release --project tests/BatchOps.PowerShell.Benchmarks -- [--quick] [--scenario NAME]
// Hosts the real PowerShell engine in this process, imports the packaged module and measures
// Invoke-BatchJob against ForEach-Object -Parallel in the same process, as ratios.
var quick = args.Contains("--quick");
var only = args.SkipWhile(a => a != "--scenario").Skip(1).FirstOrDefault();
var root = ModulePackager.FindRepositoryRoot(AppContext.BaseDirectory);
var module = new ModulePackager(root, "Release", Path.Combine(root, "out", "bench", "BatchOps")).Package(new StringWriter());
var store = Directory.CreateTempSubdirectory("batchops-psbench-").FullName;

using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();
runspace.SessionStateProxy.SetVariable("Store", store);
Invoke(runspace, $"Import-Module '{module}'; $PSDefaultParameterValues['*-Batch*:Store'] = $Store; $ProgressPreference = 'SilentlyContinue'");

Console.WriteLine($"BatchOps in PowerShell {typeof(PSObject).Assembly.GetName().Version}{(quick ? " (quick: scaled down, no goals judged)" : string.Empty)} on {Environment.ProcessorCount} cores, .NET {Environment.Version}");

// Warm both paths up before anything is timed: each keeps runspaces between runs (ForEach-Object -Parallel
// reuses its own too), and the JIT keeps promoting PowerShell's own methods for the first dozen or so runs
// in a fresh process (the System.Management.Automation package is IL only; pwsh ships it precompiled).
// Warm-up repeats until a run compiles almost nothing new, and each figure is the median of several runs.
Time(runspace, "1..1000 | ForEach-Object -Parallel { $_ } -ThrottleLimit 8 | Out-Null");
var cold = Time(runspace, "1..3000 | Invoke-BatchJob { $_ } -ThrottleLimit 8 -Name warmup | Out-Null");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up    first run in this process, 3,000 items    {3_000 / cold.TotalSeconds,12:N1}  items/s (not judged)"));
var maxRounds = quick ? 4 : 25;
var (rounds, jitted, settled) = WarmUp(runspace, "1..30000 | Invoke-BatchJob { $_ } -ThrottleLimit 8 -Name warmup | Out-Null", maxRounds);
WarmUp(runspace, "1..500 | ForEach-Object -Parallel { $_ } -ThrottleLimit 8 | Out-Null", quick ? 2 : 6);
Time(runspace, "1..64 | Invoke-BatchJob { $_ } -ThrottleLimit 16 -Name warmup | Out-Null");
Invoke(runspace, "Get-BatchJob warmup | Remove-BatchJob -Confirm:$false");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up    {rounds} runs of 30,000 items, {(settled ? "until the JIT settled" : "stopped at the cap; the JIT had not settled")} ({jitted:N0} methods compiled in all)"));
var runs = quick ? 1 : 5;

var scenarios = new (string Name, Action Run)[]
{
    ("parallel", () =>
    {
        foreach (var count in quick ? [1_000] : new[] { 3_000, 30_000 })
        {
            var feParallel = Time(runspace, $"1..{count} | ForEach-Object -Parallel {{ $_ }} -ThrottleLimit 8 | Out-Null");
            var batch = Median(runs, () => Time(runspace, $"1..{count} | Invoke-BatchJob {{ $_ }} -ThrottleLimit 8 -Name parallel | Out-Null"));
            var goal = count >= 30_000 ? 100 : 50;
            Report("parallel", $"{count:N0} trivial items, throttle 8", count / batch.TotalSeconds, "ForEach-Object -Parallel items/s", count / feParallel.TotalSeconds, $">= {goal}x", quick);
        }
    }),
    ("stored", () =>
    {
        Invoke(runspace, "$null = 1..200000 | New-BatchJob { $_ } -Name stored");
        var elapsed = Time(runspace, "Invoke-BatchJob -Id stored | Out-Null");
        Report("stored", "200,000 stored items/s", 200_000 / elapsed.TotalSeconds, "goal items/s", 50_000, ">= 1.0", quick);
    }),
    ("throughput", () =>
    {
        var count = quick ? 20_000 : 200_000;
        var elapsed = Median(Math.Min(runs, 3), () => Time(runspace, $"1..{count} | Invoke-BatchJob {{ $_ }} -Name throughput | Out-Null"));
        Report("throughput", $"{count:N0} items/s, store on", count / elapsed.TotalSeconds, "goal items/s", 50_000, ">= 1.0", quick);
    }),
    ("latency", () =>
    {
        var count = quick ? 400 : 2_000;
        var elapsed = Time(runspace, $"1..{count} | Invoke-BatchJob {{ [Threading.Thread]::Sleep(20); $_ }} -ThrottleLimit 16 -Name latency | Out-Null");
        Report("latency", $"{count:N0} x 20 ms, throttle 16, items/s", count / elapsed.TotalSeconds, "throttle / latency (ideal)", 16 / 0.020, ">= 0.9", quick);
    }),
    ("probe", () =>
    {
        foreach (var (what, script) in new[]
        {
            ("InvokeWithContext loop", "$b = [scriptblock]::Create('$_'); $v = [Collections.Generic.List[psvariable]]::new(); foreach ($i in 1..20000) { $v.Clear(); $v.Add([psvariable]::new('_', $i)); $null = $b.InvokeWithContext($null, $v, $i) }"),
            ("PSSerializer.Serialize int", "foreach ($i in 1..20000) { $null = [System.Management.Automation.PSSerializer]::Serialize($i, 2) }"),
            ("empty foreach", "foreach ($i in 1..20000) { $null = $i }"),
            ("pipeline to Out-Null", "1..20000 | ForEach-Object { $_ } | Out-Null"),
            ("Invoke-BatchJob caller runspace", "1..20000 | Invoke-BatchJob { $_ } -ThrottleLimit 1 -UseCallerRunspace -Name probe1 | Out-Null"),
            ("Invoke-BatchJob throttle 1", "1..20000 | Invoke-BatchJob { $_ } -ThrottleLimit 1 -Name probe2 | Out-Null"),
            ("Invoke-BatchJob throttle 2", "1..20000 | Invoke-BatchJob { $_ } -ThrottleLimit 2 -Name probe3 | Out-Null"),
            ("New-BatchJob", "1..20000 | New-BatchJob { $_ } -Name probe4 | Out-Null"),
            ("Invoke-BatchJob -Id (stored items)", "Invoke-BatchJob -Id probe4 | Out-Null"),
            ("New-BatchJob again", "1..20000 | New-BatchJob { $_ } -Name probe5 | Out-Null"),
            ("Invoke-BatchJob -Id, throttle 1", "Invoke-BatchJob -Id probe5 -ThrottleLimit 1 | Out-Null"),
            ("Invoke-BatchJob of 10 items (x2000: fixed cost per run)", "foreach ($i in 1..10) { $null = 1..10 | Invoke-BatchJob { $_ } -Name tiny }"),
            ("Invoke-BatchJob chunk 1000", "1..20000 | Invoke-BatchJob { $_ } -ChunkSize 1000 -Name probe6 | Out-Null"),
            ("Invoke-BatchJob chunk 1000 -> $null", "$null = 1..20000 | Invoke-BatchJob { $_ } -ChunkSize 1000 -Name probe7"),
        })
        {
            var t = Time(runspace, script);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"probe      {what,-36} {t.TotalMilliseconds / 20.0,8:F2} us/item"));
        }
    }),
    ("size", () =>
    {
        // Bytes on disk per item for the two shapes of issue 32, inputs and outputs kept, each in a store of
        // its own; the run's rate beside it.
        var count = quick ? 20_000 : 200_000;
        foreach (var (shape, script) in new[]
        {
            ("ints", "{ $_ }"),
            ("objects", "{ [pscustomobject]@{ Name = \"srv$_\"; Ok = $true } }"),
        })
        {
            var sizeStore = Directory.CreateTempSubdirectory("batchops-size-").FullName;
            var elapsed = Time(runspace, $"1..{count} | Invoke-BatchJob {script} -Name size-{shape} -Store '{sizeStore}' | Out-Null");
            var bytes = BatchOps.Testing.SqliteFileSize.UsedBytes(Path.Combine(sizeStore, "batchops.db"));
            var perItem = (double)bytes / count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"size       {shape,-8} {count:N0} items: {perItem,8:N1} bytes/item ({bytes / 1048576.0:N1} MB)  {count / elapsed.TotalSeconds,10:N1} items/s  goal <= 60 bytes/item {(quick ? "-" : perItem <= 60 ? "met" : "MISSED")}"));
            Directory.Delete(sizeStore, recursive: true);
        }
    }),
    ("memory", () =>
    {
        var small = quick ? 2_000 : 20_000;
        var large = small * 10;
        var (_, smallPeak) = WithPeakWorkingSet(() => Time(runspace, $"1..{small} | Invoke-BatchJob {{ $_ }} -Name memory-small | Out-Null"));
        var (_, largePeak) = WithPeakWorkingSet(() => Time(runspace, $"1..{large} | Invoke-BatchJob {{ $_ }} -Name memory-large | Out-Null"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory     peak working set {large:N0} items {largePeak / 1048576.0,8:N1} MB vs {small:N0} items {smallPeak / 1048576.0,8:N1} MB  ratio {(double)largePeak / smallPeak:F3}  goal <= 1.5 {(quick ? "-" : (double)largePeak / smallPeak <= 1.5 ? "met" : "MISSED")}"));
    }),
};

// "probe" (per-item costs of the parts) and "stored" (a run from the store alone) are for profiling and
// run only when asked for by name.
foreach (var (name, run) in scenarios.Where(s => only is null ? s.Name is not ("probe" or "stored") : s.Name == only))
{
    run();
}

Directory.Delete(store, recursive: true);
return 0;

static void Invoke(Runspace runspace, string script)
{
    using var shell = PowerShell.Create();
    shell.Runspace = runspace;
    shell.AddScript(script).Invoke();
    if (shell.HadErrors)
    {
        throw new InvalidOperationException($"{script}: {string.Join("; ", shell.Streams.Error)}");
    }
}

// Runs the script until a run compiles fewer than 100 new methods (or maxRounds); returns how many runs it took.
static (int Rounds, long Jitted, bool Settled) WarmUp(Runspace runspace, string script, int maxRounds)
{
    var rounds = 0;
    while (rounds < maxRounds)
    {
        var before = JitInfo.GetCompiledMethodCount();
        Time(runspace, script);
        rounds++;
        if (JitInfo.GetCompiledMethodCount() - before < 100)
        {
            return (rounds, JitInfo.GetCompiledMethodCount(), true);
        }
    }

    return (rounds, JitInfo.GetCompiledMethodCount(), false);
}

static TimeSpan Median(int runs, Func<TimeSpan> run) =>
    Enumerable.Range(0, runs).Select(_ => run()).Order().ElementAt(runs / 2);

static TimeSpan Time(Runspace runspace, string script)
{
    GC.Collect();
    var clock = Stopwatch.StartNew();
    Invoke(runspace, script);
    return clock.Elapsed;
}

static (T Result, long PeakWorkingSet) WithPeakWorkingSet<T>(Func<T> work)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    using var process = Process.GetCurrentProcess();
    long peak = 0;
    using var done = new CancellationTokenSource();
    var sampler = Task.Run(() =>
    {
        while (!done.IsCancellationRequested)
        {
            process.Refresh();
            peak = Math.Max(peak, process.WorkingSet64);
            Thread.Sleep(10);
        }
    });
    var result = work();
    done.Cancel();
    sampler.Wait();
    return (result, peak);
}

static void Report(string scenario, string measure, double value, string baselineMeasure, double baseline, string goal, bool quick)
{
    var ratio = value / baseline;
    var threshold = double.Parse(goal.TrimStart('>', '=', ' ').TrimEnd('x'), CultureInfo.InvariantCulture);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{scenario,-10} {measure,-38} {value,12:N1}  {baselineMeasure,-34} {baseline,12:N1}  ratio {ratio,8:F3}  goal {goal} {(quick ? "-" : ratio >= threshold ? "met" : "MISSED")}"));
}
