using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests;

/// <summary>batchops as real child processes: killed, interrupted, stopped from another process, run side by side.</summary>
public class ProcessLifecycleTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Store => Path.Combine(_folder.Path, "store");

    private static int[] Recorded(string file) =>
        File.Exists(file) ? File.ReadAllLines(file).Where(l => l.Length > 0).Select(int.Parse).ToArray() : [];

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    [InlineData(24)]
    [InlineData(37)]
    [InlineData(52)]
    public async Task Run_KilledWithSigkill_ResumeRunsEverythingElseAndNothingThatSucceeded(int killAfter)
    {
        const int count = 60;
        var record = Path.Combine(_folder.Path, "ran.txt");
        var spec = SpecFiles.Write(_folder.Path, SpecFiles.Appending("crashy", count, record, sleepSeconds: 0.02, throttle: 4, chunk: 5));

        using (var run = CliHarness.Start(Store, "run", spec))
        {
            await WaitForAsync(() => Recorded(record).Length >= killAfter || run.HasExited, $"{killAfter} items to run");
            run.Kill();
            await run.WaitForExitAsync();
        }

        // What the store says had succeeded at the moment of the kill must never run again.
        using var store = SqliteJobStore.Open(Store);
        var job = (await store.FindJobsAsync(new JobQuery { Name = "crashy" })).Single();
        var succeededAtKill = (await store.GetItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.Succeeded] }).ToListAsync()).Select(i => (int)i.Index).ToHashSet();
        var linesAtKill = Recorded(record).Length;
        Assert.True(job.Status is JobStatus.Interrupted or JobStatus.Completed, $"status after SIGKILL: {job.Status}");

        var resume = await CliHarness.RunProcessAsync(Store, Limit, "resume", "crashy");

        Assert.True(resume.ExitCode == 0, resume.ToString());
        var ranAfterResume = Recorded(record).Skip(linesAtKill).ToArray();
        Assert.Empty(ranAfterResume.Intersect(succeededAtKill));
        Assert.Equal(Enumerable.Range(0, count), Recorded(record).Distinct().Order());
        var final = (await store.GetJobAsync(job.Id))!;
        Assert.Equal(JobStatus.Completed, final.Status);
        Assert.Equal(count, final.Counts.Succeeded);
    }

    [Fact]
    public async Task Run_Sigint_ExitsWith130AndLeavesTheJobResumable()
    {
        var record = Path.Combine(_folder.Path, "ran.txt");
        var spec = SpecFiles.Write(_folder.Path, SpecFiles.Appending("interrupted", 40, record, sleepSeconds: 0.1, throttle: 2, chunk: 4));
        using var run = CliHarness.Start(Store, "run", spec);
        var stderr = run.StandardError.ReadToEndAsync();
        await WaitForAsync(() => Recorded(record).Length >= 4, "the run to start");

        CliHarness.Signal(run, "INT");
        await run.WaitForExitAsync().WaitAsync(Limit);

        Assert.True(run.ExitCode == 130, $"exit {run.ExitCode}: {await stderr}");
        Assert.Contains("resumable", await stderr, StringComparison.Ordinal);
        var show = await CliHarness.RunAsync(Store, "show", "interrupted", "--json");
        using var job = JsonDocument.Parse(show.Out);
        Assert.Equal("Cancelled", job.RootElement.GetProperty("job").GetProperty("status").GetString());
        var resume = await CliHarness.RunProcessAsync(Store, Limit, "resume", "interrupted");
        Assert.True(resume.ExitCode == 0, resume.ToString());
    }

    [Fact]
    public async Task Cancel_FromAnotherProcess_StopsTheRunGracefully()
    {
        var record = Path.Combine(_folder.Path, "ran.txt");
        var spec = SpecFiles.Write(_folder.Path, SpecFiles.Appending("long", 200, record, sleepSeconds: 0.05, throttle: 2, chunk: 5));
        using var run = CliHarness.Start(Store, "run", spec);
        var stdout = run.StandardOutput.ReadToEndAsync();
        _ = run.StandardError.ReadToEndAsync();
        await WaitForAsync(() => Recorded(record).Length >= 3, "the run to start");

        var cancel = await CliHarness.RunProcessAsync(Store, Limit, "cancel", "long");
        await run.WaitForExitAsync().WaitAsync(Limit);

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains("Asked process", cancel.Out, StringComparison.Ordinal);
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}: {await stdout}");
        Assert.Contains("Cancelled", await stdout, StringComparison.Ordinal);
        Assert.True(Recorded(record).Length < 200);

        var resume = await CliHarness.RunProcessAsync(Store, Limit, "resume", "long");
        Assert.True(resume.ExitCode == 0, resume.ToString());
        Assert.Equal(200, Recorded(record).Distinct().Count());
    }

    [Fact]
    public async Task TwoProcesses_OneStore_BothJobsCompleteWithEveryOutcome()
    {
        var specs = new[] { "left", "right" }.Select(name =>
            SpecFiles.Write(_folder.Path, new
            {
                name,
                items = Enumerable.Range(0, 150).Select(i => new { n = i }).ToArray(),
                operation = new { kind = "exec", command = "true" },
                settings = new { throttleLimit = 4, chunkSize = 3 },
            }, $"{name}.json")).ToArray();

        var results = await Task.WhenAll(specs.Select(spec => CliHarness.RunProcessAsync(Store, Limit, "run", spec)));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        using var store = SqliteJobStore.Open(Store);
        var jobs = await store.FindJobsAsync(new JobQuery());
        Assert.Equal(2, jobs.Count);
        Assert.All(jobs, j => Assert.Equal((JobStatus.Completed, 150L), (j.Status, j.Counts.Succeeded)));
    }
}
