using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using BatchOps.Postgres;
using BatchOps.Testing;
using Npgsql;

namespace BatchOps.Cli.Tests.Workers;

/// <summary>batchops worker processes on one PostgreSQL store, killed, paused and cancelled for real.</summary>
[Collection(QuietPostgresCollection.Name)]
public sealed class WorkerProcessTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private readonly TempFolder _folder = new();
    private readonly LoopbackHttpServer _server = new();
    private readonly List<WorkerProcess> _workers = [];
    private string _database = string.Empty;

    public async Task InitializeAsync() => _database = await postgres.CreateDatabaseAsync();

    public Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        _reader?.Dispose();
        _server.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private async Task<string> SubmitAsync(int count, string path, object settings)
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "fleet",
            items = Enumerable.Range(0, count).Select(n => new { n }),
            operation = new { kind = "http", url = $"{_server.BaseUrl}/{path}" },
            settings,
        }, $"spec-{Guid.NewGuid():N}.json");
        var submitted = await CliHarness.RunAsync(_database, "submit", spec, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        return JsonDocument.Parse(submitted.Out).RootElement.GetProperty("id").GetString()!;
    }

    private WorkerProcess StartWorker(string name, params string[] args)
    {
        var worker = new WorkerProcess(CliHarness.StartWith(_database, new Dictionary<string, string> { ["BATCHOPS_HOME"] = _folder.Path }, ["worker", "--name", name, .. args]));
        _workers.Add(worker);
        return worker;
    }

    private PostgresJobStore? _reader;

    private async Task<JobRecord> JobAsync(string id)
    {
        _reader ??= PostgresJobStore.Open(_database);
        return (await _reader.GetJobAsync(id))!;
    }

    private async Task<JobRecord> WaitForAsync(string id, Func<JobRecord, bool> until, TimeSpan? limit = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var job = await JobAsync(id);
            if (until(job))
            {
                return job;
            }

            if (deadline.Elapsed > (limit ?? Bound))
            {
                Assert.Fail($"Job {id} did not get there within {limit ?? Bound}: {job.Status}, {job.Counts.Succeeded} succeeded, {job.Counts.Unfinished} unfinished.\n{string.Join("\n", _workers.Select(w => w.Output))}");
            }

            await Task.Delay(50);
        }
    }

    private async Task<List<(long First, long Last)>> ClaimsOfAsync(string worker)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT first_idx, last_idx FROM batchops.job_chunks WHERE worker = $1 AND claimed", connection);
        command.Parameters.Add(new() { Value = worker });
        await using var reader = await command.ExecuteReaderAsync();
        var claims = new List<(long, long)>();
        while (await reader.ReadAsync())
        {
            claims.Add((reader.GetInt64(0), reader.GetInt64(1)));
        }

        return claims;
    }

    private int HitsOf(string prefix, long n) => _server.Hits.GetValueOrDefault($"/{prefix}/{n}" + (prefix == "wait" ? $"/{WaitMs}" : string.Empty));

    private const int WaitMs = 2;

    [Fact]
    public async Task ThreeWorkers_OneKilledMidChunk_JobCompletes_EachItemRecordedOnce_OnlyItsChunkRanAgain()
    {
        var id = await SubmitAsync(20_000, "wait/{n}/" + WaitMs, new { chunkSize = 100, throttleLimit = 8 });
        var doomed = StartWorker("w1", "--lease", "3");
        StartWorker("w2", "--lease", "3");
        StartWorker("w3", "--lease", "3");
        await WaitForAsync(id, j => j.Counts.Succeeded >= 3000);
        var deadline = Stopwatch.StartNew();
        while ((await ClaimsOfAsync("w1")).Count == 0 && deadline.Elapsed < Bound)
        {
            await Task.Delay(5);
        }

        doomed.Kill();
        var inFlight = await ClaimsOfAsync("w1");
        // At most the chunk running, one claimed ahead (chunks this fast are) and two being recorded.
        Assert.True(inFlight.Count <= 4, $"w1 held {inFlight.Count} chunks at once.");

        var ended = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued));

        Assert.Equal((JobStatus.Completed, 20_000L), (ended.Status, ended.Counts.Succeeded));
        var twice = Enumerable.Range(0, 20_000).Where(n => HitsOf("wait", n) > 1).ToList();
        Assert.All(Enumerable.Range(0, 20_000), n => Assert.True(HitsOf("wait", n) >= 1, $"item {n} never ran"));
        Assert.All(twice, n => Assert.Contains(inFlight, c => n >= c.First && n <= c.Last));
        Assert.All(twice, n => Assert.Equal(2, HitsOf("wait", n)));
        using var store = PostgresJobStore.Open(_database);
        var items = await store.GetItemsAsync(id, ItemQuery.All).ToListAsync();
        Assert.Equal(20_000, items.Count(i => i.Status == ItemStatus.Succeeded));
        Assert.Empty(await store.GetItemHistoryAsync(id, inFlight.Count > 0 ? inFlight[0].First : 0));
        Assert.Contains("reclaimed", string.Concat(_workers.Skip(1).Select(w => w.Output)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_FromAnotherProcess_StopsEveryWorkerWithinTwoSeconds_AndResumeQueueHandsTheRestBack()
    {
        var id = await SubmitAsync(6_000, "wait/{n}/20", new { chunkSize = 50, throttleLimit = 4 });
        for (var i = 1; i <= 3; i++)
        {
            StartWorker($"w{i}");
        }

        await WaitForAsync(id, j => j.Counts.Succeeded >= 300);
        var cancel = await CliHarness.RunProcessAsync(_database, Bound, "cancel", id);
        var cancelled = DateTime.UtcNow;
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains("Asked every worker", cancel.Out, StringComparison.Ordinal);

        var ended = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued), TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(JobStatus.Cancelled, ended.Status);
        Assert.True(ended.EndedAt!.Value.UtcDateTime - cancelled < TimeSpan.FromSeconds(2), $"ended {ended.EndedAt:O}, cancelled {cancelled:O}");
        var lastStart = _server.Times.Values.SelectMany(t => { lock (t) { return t.ToList(); } }).Max();
        Assert.True(lastStart - cancelled < TimeSpan.FromSeconds(2), $"a worker still started an item at {lastStart:O}, {lastStart - cancelled} after the cancel");
        Assert.True(ended.Counts.Unfinished > 3_000);
        Assert.Equal(ended.Counts.Succeeded, (await JobAsync(id)).Counts.Succeeded);

        var requeued = await CliHarness.RunAsync(_database, "resume", id, "--queue");
        Assert.True(requeued.ExitCode == 0, requeued.ToString());
        Assert.Contains($"{ended.Counts.Unfinished} item(s) to run", requeued.Out, StringComparison.Ordinal);
        var finished = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued));
        Assert.Equal((JobStatus.Completed, 6_000L), (finished.Status, finished.Counts.Succeeded));
        Assert.All(Enumerable.Range(0, 6_000), n => Assert.True(_server.Hits.ContainsKey($"/wait/{n}/20"), $"item {n} never ran"));
    }

    [Fact]
    public async Task GlobalRateLimit_HoldsAcrossThreeWorkers()
    {
        const int count = 1600;
        var id = await SubmitAsync(count, "ok/{n}", new { chunkSize = 40, throttleLimit = 8, rateLimit = 200 });
        for (var i = 1; i <= 3; i++)
        {
            StartWorker($"w{i}");
        }

        var ended = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued));

        Assert.Equal(JobStatus.Completed, ended.Status);
        var starts = _server.Times.Values.SelectMany(t => t).Order().ToList();
        Assert.Equal(count, starts.Count);

        // Past start-up (workers starting and compiling), with demand to spare from 24 slots, the three workers
        // together start items at the job's rate: not faster (the limit) and not slower (no slot lost).
        // The first and last tenth are left out; a busy machine's late wake-ups there are not the limiter's.
        var steady = starts.Skip(count / 10).Take(count * 8 / 10).ToList();
        var rate = (steady.Count - 1) / (steady[^1] - steady[0]).TotalSeconds;
        var gaps = steady.Zip(steady.Skip(1), (a, b) => (b - a).TotalMilliseconds).OrderDescending().Take(5);
        var gapAt = steady.Zip(steady.Skip(1), (a, b) => (a, b)).MaxBy(p => p.b - p.a);
        Assert.True(rate is >= 200 * 0.97 and <= 200 * 1.03, $"{rate:F1} starts/s; longest gaps between starts (ms): {string.Join(", ", gaps.Select(g => g.ToString("F0", CultureInfo.InvariantCulture)))} after the start at {gapAt.a:HH:mm:ss.fff}; the workers' last lines:\n" + string.Join("\n----\n", _workers.Select(w => string.Join('\n', w.Output.Split('\n').TakeLast(8)))));
        Assert.All(_workers, w => Assert.Contains("claimed", w.Output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PausedWorker_LosesItsChunkPastTheLease_AndItsLateResultsAreDiscarded()
    {
        var id = await SubmitAsync(10, "wait/{n}/300", new { chunkSize = 5, throttleLimit = 1 });
        var paused = StartWorker("slow", "--lease", "2");
        var deadline = Stopwatch.StartNew();
        while ((await ClaimsOfAsync("slow")).Count == 0 && deadline.Elapsed < Bound)
        {
            await Task.Delay(10);
        }

        await Task.Delay(400);
        CliHarness.Signal(paused.Process, "STOP");
        var held = Assert.Single(await ClaimsOfAsync("slow"));
        StartWorker("fast", "--lease", "2");

        var ended = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued));
        Assert.Equal((JobStatus.Completed, 10L), (ended.Status, ended.Counts.Succeeded));
        CliHarness.Signal(paused.Process, "CONT");
        await paused.WaitForOutputAsync("lost", Bound);

        var after = await JobAsync(id);
        Assert.Equal((JobStatus.Completed, 10L, ended.EndedAt), (after.Status, after.Counts.Succeeded, after.EndedAt));
        using var store = PostgresJobStore.Open(_database);
        for (var n = held.First; n <= held.Last; n++)
        {
            Assert.Empty(await store.GetItemHistoryAsync(id, n));
        }

        Assert.Contains($"items {held.First}-{held.Last}: the claim passed to another worker", paused.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_StagedSpec_TwoWorkersRunEachStageOnlyAfterItsDependency_AndShowReportsTheStages()
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "staged-fleet",
            settings = new { throttleLimit = 4 },
            stages = new object[]
            {
                new { name = "apply", dependsOn = new[] { "prepare" }, items = Enumerable.Range(0, 300).Select(n => new { n }), operation = new { kind = "http", url = $"{_server.BaseUrl}/ok/a{{n}}" }, settings = new { chunkSize = 50 } },
                new { name = "prepare", items = Enumerable.Range(0, 200).Select(n => new { n }), operation = new { kind = "http", url = $"{_server.BaseUrl}/ok/p{{n}}" }, settings = new { chunkSize = 20 } },
            },
        }, "staged.json");
        var submitted = await CliHarness.RunAsync(_database, "submit", spec, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = JsonDocument.Parse(submitted.Out).RootElement.GetProperty("id").GetString()!;

        StartWorker("w1");
        StartWorker("w2");
        var ended = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued));

        Assert.Equal((JobStatus.Completed, 500L), (ended.Status, ended.Counts.Succeeded));
        Assert.All(Enumerable.Range(0, 200), n => Assert.Equal(1, _server.Hits.GetValueOrDefault($"/ok/p{n}")));
        Assert.All(Enumerable.Range(0, 300), n => Assert.Equal(1, _server.Hits.GetValueOrDefault($"/ok/a{n}")));
        var prepared = _server.Times.Where(t => t.Key.StartsWith("/ok/p", StringComparison.Ordinal)).Max(t => t.Value.Max());
        var applied = _server.Times.Where(t => t.Key.StartsWith("/ok/a", StringComparison.Ordinal)).Min(t => t.Value.Min());
        Assert.True(applied > prepared, $"stage apply sent its first request at {applied:O}, before prepare's last at {prepared:O}");
        var item = Assert.Single(await _reader!.GetItemsAsync(id, new ItemQuery { Indexes = [ended.Stage("apply")!.FirstIndex + 7] }).ToListAsync());
        Assert.Equal("ok a7", item.Output);

        var show = await CliHarness.RunAsync(_database, "show", id, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        var stages = JsonDocument.Parse(show.Out).RootElement.GetProperty("stages").EnumerateArray().Select(s => (s.GetProperty("name").GetString(), s.GetProperty("status").GetString())).ToList();
        Assert.Equal([("prepare", "Completed"), ("apply", "Completed")], stages);
        Assert.Contains(_workers, w => w.Output.Contains("stageopened", StringComparison.Ordinal) && w.Output.Contains("stage 'apply' opened (prepare completed)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Submit_SpecThatRollsBackOnFailure_TheWorkerUndoesEverySucceededItemOnce()
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "rolling-fleet",
            onFailure = "rollback",
            items = Enumerable.Range(0, 40).Select(n => new { n, path = n == 23 ? "missing" : "ok" }),
            operation = new { kind = "http", url = $"{_server.BaseUrl}/{{path}}/{{n}}" },
            undo = new { kind = "http", url = $"{_server.BaseUrl}/ok/undo{{n}}" },
            settings = new { chunkSize = 10, throttleLimit = 2, retryCount = 0 },
        }, "rolling.json");
        var submitted = await CliHarness.RunAsync(_database, "submit", spec, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = JsonDocument.Parse(submitted.Out).RootElement.GetProperty("id").GetString()!;

        StartWorker("w1");
        var ended = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued));

        Assert.Equal((JobStatus.RolledBack, 39L, 1L), (ended.Status, ended.Counts.Compensated, ended.Counts.Failed));
        Assert.All(Enumerable.Range(0, 40).Where(n => n != 23), n => Assert.Equal(1, _server.Hits.GetValueOrDefault($"/ok/undo{n}")));
        Assert.Equal(0, _server.Hits.GetValueOrDefault("/ok/undo23"));
    }

    [Fact]
    public async Task AWorkerThatEndsAJob_SendsItsNotice_Once()
    {
        var hook = $"HOOK_{Guid.NewGuid():N}";
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "told-fleet",
            items = Enumerable.Range(0, 20).Select(n => new { n, path = n == 7 ? "missing" : "ok" }),
            operation = new { kind = "http", url = $"{_server.BaseUrl}/{{path}}/told{{n}}" },
            settings = new { chunkSize = 5, retryCount = 0 },
            notify = new[] { new { on = new[] { "CompletedWithErrors" }, webhook = $"env:{hook}" } },
        }, "told.json");
        var submitted = await CliHarness.RunAsync(_database, "submit", spec, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = JsonDocument.Parse(submitted.Out).RootElement.GetProperty("id").GetString()!;

        var worker = new WorkerProcess(CliHarness.StartWith(_database, new Dictionary<string, string> { ["BATCHOPS_HOME"] = _folder.Path, [hook] = $"{_server.BaseUrl}/ok/told-hook" }, ["worker", "--name", "teller"]));
        _workers.Add(worker);
        var ended = await WaitForAsync(id, j => j.Status is not (JobStatus.Running or JobStatus.Queued));
        Assert.Equal(JobStatus.CompletedWithErrors, ended.Status);
        for (var clock = Stopwatch.StartNew(); _server.Hits.GetValueOrDefault("/ok/told-hook") == 0; await Task.Delay(50))
        {
            Assert.True(clock.Elapsed < Bound, worker.Output);
        }

        await worker.WaitForOutputAsync("noticesent", Bound);
        var notices = await _reader!.GetNoticesAsync(id);
        Assert.Equal(Engine.Notifications.NoticeStatus.Sent, Assert.Single(notices).Status);
        Assert.Equal(1, _server.Hits.GetValueOrDefault("/ok/told-hook"));
    }

    [Fact]
    public async Task Submit_ToASqliteStore_IsRefusedWithTheFix()
    {
        var spec = SpecFiles.Write(_folder.Path, new { name = "x", items = new[] { new { n = 1 } }, operation = new { kind = "http", url = $"{_server.BaseUrl}/ok/{{n}}" } });

        var result = await CliHarness.RunAsync(Path.Combine(_folder.Path, "local"), "submit", spec);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("cannot queue jobs for workers", result.Error, StringComparison.Ordinal);
        Assert.Contains("postgresql://", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workers_SaysWhichQueuedJobWaitsForAKindNoRunningWorkerRuns_AndWhichWorkerToStart()
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "mixed-fleet",
            stages = new object[]
            {
                new { name = "create", items = Enumerable.Range(0, 10).Select(n => new { n }), operation = new { kind = "http", url = $"{_server.BaseUrl}/ok/c{{n}}" }, settings = new { chunkSize = 5 } },
                new { name = "verify", dependsOn = new[] { "create" }, items = Enumerable.Range(0, 10).Select(n => new { n }), operation = new { kind = "scriptblock", script = "$_.n" }, settings = new { chunkSize = 5 } },
            },
        }, "mixed.json");
        var submitted = await CliHarness.RunAsync(_database, "submit", spec, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = JsonDocument.Parse(submitted.Out).RootElement.GetProperty("id").GetString()!;
        StartWorker("w1");

        // Its http stage runs; its script-block stage then waits, and the list of workers says for what.
        var waiting = $"Waiting: Job 'mixed-fleet' ({id}): 2 chunk(s) of kind scriptblock wait for a worker that runs scriptblock; none running does. Start-BatchWorker in PowerShell runs every kind.";
        var text = await CliHarness.RunAsync(_database, "workers");
        for (var clock = Stopwatch.StartNew(); !text.Out.Contains(waiting, StringComparison.Ordinal); text = await CliHarness.RunAsync(_database, "workers"))
        {
            Assert.True(text.ExitCode == 0 && clock.Elapsed < Bound, $"{text}\n{string.Join("\n", _workers.Select(w => w.Output))}");
            await Task.Delay(100);
        }

        Assert.Matches(@"(?m)^w1\s+\S+\s+\d+\s+Idle\s", text.Out);
        var job = await JobAsync(id);
        Assert.True(job.Status is JobStatus.Queued or JobStatus.Running, $"{job.Status}");
        Assert.Equal((10L, 10L), (job.Counts.Succeeded, job.Counts.Unfinished));
        Assert.All(Enumerable.Range(0, 10), n => Assert.Equal(1, _server.Hits.GetValueOrDefault($"/ok/c{n}")));

        // The JSON form stays the list of workers.
        var json = await CliHarness.RunAsync(_database, "workers", "--json");
        Assert.Equal("w1", Assert.Single(JsonDocument.Parse(json.Out).RootElement.EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Workers_ListsEachWorkerBusyOrIdle_MissingOnceKilled_AndGoneOnceStopped()
    {
        var id = await SubmitAsync(40, "wait/{n}/300", new { chunkSize = 5, throttleLimit = 1 });
        var busy = StartWorker("w-busy", "--lease", "2");
        var idle = StartWorker("w-idle", "--lease", "2", "--kinds", "exec", "--concurrency", "2");

        var listed = await WorkersUntilAsync(w => w.Count == 2 && w.Any(x => x.Name == "w-busy" && x.State == "Busy"));
        var b = listed.Single(w => w.Name == "w-busy");
        Assert.Equal((busy.Process.Id, 1), (b.Pid, b.Held));
        Assert.Equal([id], b.Jobs);
        Assert.Equal(["exec", "http", "sql"], b.Kinds);
        var i = listed.Single(w => w.Name == "w-idle");
        Assert.Equal(("Idle", idle.Process.Id, 2, 0), (i.State, i.Pid, i.Concurrency, i.Held));
        Assert.Empty(i.Jobs);
        Assert.Equal(["exec"], i.Kinds);

        // The table, read while w-busy holds a chunk (between two chunks it holds none for a moment).
        var busyLine = new Regex($@"(?m)^w-busy\s+\S+\s+{busy.Process.Id}\s+Busy\s+1\s+\d+\s+exec,http,sql\s+.*{id}$");
        var text = await CliHarness.RunAsync(_database, "workers");
        for (var clock = Stopwatch.StartNew(); !busyLine.IsMatch(text.Out) && clock.Elapsed < Bound; text = await CliHarness.RunAsync(_database, "workers"))
        {
            Assert.True(text.ExitCode == 0, text.ToString());
        }

        Assert.Matches(@"(?m)^NAME\s+HOST\s+PID\s+STATE\s+HELD\s+RECORDED\s+KINDS\s+SEEN\s+JOBS$", text.Out);
        Assert.Matches(busyLine, text.Out);

        busy.Kill();
        // Its presence and its chunk's lease both run out within the lease (2 s); then it is Missing and holds nothing.
        var missing = await WorkersUntilAsync(w => w.Any(x => x.Name == "w-busy" && x.State == "Missing" && x.Held == 0));
        Assert.Empty(missing.Single(w => w.Name == "w-busy").Jobs);
        Assert.Contains("Missing: not seen for longer than its lease", (await CliHarness.RunAsync(_database, "workers")).Out, StringComparison.Ordinal);

        CliHarness.Signal(idle.Process, "TERM");
        Assert.True(idle.Process.WaitForExit(Bound), idle.Output);
        var left = await WorkersUntilAsync(w => w.All(x => x.Name != "w-idle"));
        Assert.Equal("w-busy", Assert.Single(left).Name);
    }

    [Fact]
    public async Task WorkersStop_AsksTheMatchingWorkersOnly_TheyFinishTheirChunksAndExit_TheOthersRunTheRest()
    {
        var id = await SubmitAsync(40, "wait/{n}/200", new { chunkSize = 5, throttleLimit = 1 });
        var first = StartWorker("s-1", "--lease", "3");
        var second = StartWorker("s-2", "--lease", "3");
        await WorkersUntilAsync(w => w.Count(x => x.Name.StartsWith("s-", StringComparison.Ordinal) && x.State == "Busy") == 2);
        var kept = StartWorker("kept", "--lease", "3");
        await WorkersUntilAsync(w => w.Any(x => x.Name == "kept"));

        var unknown = await CliHarness.RunAsync(_database, "workers", "stop", "nobody");
        Assert.Equal(ExitCodes.Usage, unknown.ExitCode);
        Assert.Contains("No worker matches 'nobody'", unknown.Error, StringComparison.Ordinal);
        Assert.Contains("batchops workers", unknown.Error, StringComparison.Ordinal);

        var stop = await CliHarness.RunAsync(_database, "workers", "stop", "S-*");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("Asked worker 's-1'", stop.Out, StringComparison.Ordinal);
        Assert.Contains("Asked worker 's-2'", stop.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("'kept'", stop.Out, StringComparison.Ordinal);
        // Stopping while they finish their chunks (a worker that already finished has left the list).
        var listed = await WorkersUntilAsync(_ => true);
        Assert.All(listed.Where(w => w.Name.StartsWith("s-", StringComparison.Ordinal)), w => Assert.Equal("Stopping", w.State));
        Assert.NotEqual("Stopping", listed.Single(w => w.Name == "kept").State);

        foreach (var asked in new[] { first, second })
        {
            Assert.True(asked.Process.WaitForExit(Bound), asked.Output);
            Assert.Equal(0, asked.Process.ExitCode);
            Assert.Contains("stopasked: asked to stop through the store", asked.Output, StringComparison.Ordinal);
        }

        // They finished the chunks they held (nothing was given back to run again), and 'kept' ran the rest.
        var ended = await WaitForAsync(id, j => j.Status == JobStatus.Completed);
        Assert.Equal(40L, ended.Counts.Succeeded);
        Assert.All(Enumerable.Range(0, 40), n => Assert.Equal(1, _server.Hits.GetValueOrDefault($"/wait/{n}/200")));
        Assert.DoesNotContain("given back", first.Output + second.Output, StringComparison.Ordinal);
        Assert.False(kept.Process.HasExited, kept.Output);
        Assert.Equal("kept", Assert.Single(await WorkersUntilAsync(w => w.Count == 1)).Name);
    }

    [Fact]
    public async Task Workers_OnASqliteStore_IsRefusedWithTheFix()
    {
        var result = await CliHarness.RunAsync(Path.Combine(_folder.Path, "local"), "workers");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("cannot queue jobs for workers", result.Error, StringComparison.Ordinal);
    }

    private sealed record ListedWorker(string Name, int Pid, string State, int Held, int Concurrency, string[] Jobs, string[] Kinds);

    /// <summary>Runs 'batchops workers --json' until <paramref name="until"/> holds (bounded).</summary>
    private async Task<List<ListedWorker>> WorkersUntilAsync(Func<List<ListedWorker>, bool> until)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var result = await CliHarness.RunAsync(_database, "workers", "--json");
            Assert.True(result.ExitCode == 0, result.ToString());
            var workers = JsonDocument.Parse(result.Out).RootElement.EnumerateArray().Select(w => new ListedWorker(
                w.GetProperty("name").GetString()!,
                w.GetProperty("processId").GetInt32(),
                w.GetProperty("state").GetString()!,
                w.GetProperty("chunksHeld").GetInt32(),
                w.GetProperty("concurrency").GetInt32(),
                [.. w.GetProperty("jobs").EnumerateArray().Select(j => j.GetString()!)],
                [.. w.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()!)])).ToList();
            if (until(workers))
            {
                return workers;
            }

            Assert.True(deadline.Elapsed < Bound, $"'batchops workers' did not get there within {Bound}: {result.Out}\n{string.Join("\n", _workers.Select(w => w.Output))}");
            await Task.Delay(100);
        }
    }

    /// <summary>A worker child process and everything it printed.</summary>
    private sealed class WorkerProcess : IDisposable
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public WorkerProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output => string.Join('\n', _lines);

        public void Kill() => Process.Kill();

        public async Task WaitForOutputAsync(string text, TimeSpan limit)
        {
            var watch = Stopwatch.StartNew();
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                Assert.True(watch.Elapsed < limit, $"The worker did not print '{text}' within {limit}:\n{Output}");
                await Task.Delay(50);
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                CliHarness.Signal(Process, "CONT");
                CliHarness.Signal(Process, "TERM");
                if (!Process.WaitForExit(TimeSpan.FromSeconds(20)))
                {
                    Process.Kill(entireProcessTree: true);
                }
            }

            Process.Dispose();
        }
    }
}
