using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BatchOps.Cli.Tests;

/// <summary>
/// batchops prune on a real SQLite store: by age and status, -what-if first, never a job that runs, and the
/// file's space given back (new stores vacuum incrementally; an older one is switched once when enough is free).
/// </summary>
public sealed class PruneCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string Store => Path.Combine(_folder.Path, "store");

    private string Database => Path.Combine(Store, "batchops.db");

    public void Dispose() => _folder.Dispose();

    private async Task<JobRecord> RunAsync(string name, int count, Func<long, bool>? fails = null)
    {
        using var store = SqliteJobStore.Open(Store);
        var runner = new JobRunner(store);
        var job = await runner.CreateAsync(
            new JobDefinition { Name = name, OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 500, ThrottleLimit = 2 } },
            Enumerable.Range(0, count).Select(i => JsonSerializer.SerializeToElement(new { host = $"host{i:D6}", pad = Noise(120) })), JsonPayloadCodec.Instance, "text");
        return (await runner.RunAsync(job.Id, new JobRunRequest<JsonElement, string?>
        {
            Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) =>
                fails?.Invoke(item.Index) == true ? throw new InvalidOperationException("bad") : ValueTask.FromResult<string?>($"patched {item.Value.GetProperty("host").GetString()} {Noise(100)}")),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        })).Job;
    }

    /// <summary>Text that does not compress (item blocks are packed), so the store's size follows its items.</summary>
    private static string Noise(int length) => string.Concat(Enumerable.Range(0, (length / 32) + 1).Select(_ => Guid.NewGuid().ToString("N")))[..length];

    /// <summary>Moves a job's end (and creation) back by <paramref name="days"/>, as if it had run then.</summary>
    private void Age(JobRecord job, int days)
    {
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE jobs SET ended_at = ended_at - {days} * 86400000, created_at = created_at - {days} * 86400000 WHERE id = $id";
        command.Parameters.AddWithValue("$id", job.Id);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private long FileBytes()
    {
        SqliteConnection.ClearAllPools();
        return new[] { Database, Database + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);
    }

    [Fact]
    public async Task Prune_WhatIfListsTheOldJobs_ThenRemovesThemAndTheFileShrinks_LeavingNewOnesAndOtherStatuses()
    {
        var old = await RunAsync("old-completed", 20_000);
        var oldFailed = await RunAsync("old-failed", 300, i => i % 3 == 0);
        var recent = await RunAsync("recent", 200);
        Age(old, 40);
        Age(oldFailed, 40);

        var dry = await CliHarness.RunAsync(Store, "prune", "--older-than", "30d", "--status", "Completed", "--what-if");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains($"Would remove job 'old-completed' ({old.Id}), Completed ended ", dry.Out, StringComparison.Ordinal);
        Assert.Contains("Would remove 1 job(s), 20,000 item(s), about ", dry.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("old-failed", dry.Out, StringComparison.Ordinal);

        var before = FileBytes();
        var pruned = await CliHarness.RunAsync(Store, "prune", "--older-than", "30d", "--status", "Completed", "--json");
        Assert.True(pruned.ExitCode == 0, pruned.ToString());
        var result = JsonDocument.Parse(pruned.Out).RootElement;
        Assert.Equal(old.Id, Assert.Single(result.GetProperty("removed").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(20_000, result.GetProperty("items").GetInt64());
        var after = FileBytes();
        Assert.True(after < before / 2, $"the store file went from {before:N0} to {after:N0} bytes");

        var list = await CliHarness.RunAsync(Store, "list", "--json");
        var names = JsonDocument.Parse(list.Out).RootElement.EnumerateArray().Select(j => j.GetProperty("name").GetString()).Order().ToList();
        Assert.Equal(["old-failed", "recent"], names);

        // Every ended status by default: the old failed job goes too, the recent one stays.
        var all = await CliHarness.RunAsync(Store, "prune", "--older-than", "30d");
        Assert.Contains("Removed 1 job(s), 300 item(s)", all.Out, StringComparison.Ordinal);
        using var store = SqliteJobStore.Open(Store);
        Assert.NotNull(await store.GetJobAsync(recent.Id));
        Assert.Null(await store.GetJobAsync(oldFailed.Id));
    }

    [Fact]
    public async Task Prune_NeverRemovesAJobThatRuns_AndAnOlderStoreIsSwitchedToIncrementalVacuumWhenEnoughIsFree()
    {
        var old = await RunAsync("old", 20_000);
        var running = await RunAsync("running", 100);
        Age(old, 10);
        Age(running, 10);

        // A store made before incremental vacuum: auto_vacuum off.
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={Database};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA auto_vacuum = NONE; VACUUM; PRAGMA auto_vacuum;";
            Assert.Equal(0L, command.ExecuteScalar());
        }

        // Another process holds "running" (its lease), as a run would.
        using (var store = SqliteJobStore.Open(Store))
        {
            Assert.True(await store.TryAcquireLeaseAsync(running.Id, JobLease.ForCurrentProcess(DateTimeOffset.UtcNow)));
        }

        var before = FileBytes();
        var pruned = await CliHarness.RunAsync(Store, "prune", "--older-than", "7d");
        Assert.True(pruned.ExitCode == 0, pruned.ToString());
        Assert.Contains("Removed 1 job(s), 20,000 item(s)", pruned.Out, StringComparison.Ordinal);
        Assert.True(FileBytes() < before / 2, $"the store file went from {before:N0} to {FileBytes():N0} bytes");

        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={Database};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA auto_vacuum";
            Assert.Equal(2L, command.ExecuteScalar());
        }

        using var reopened = SqliteJobStore.Open(Store);
        Assert.Equal(100, (await reopened.GetJobAsync(running.Id))!.Counts.Total);
    }

    [Theory]
    [InlineData("soon", "--older-than: 'soon' is not an age")]
    [InlineData("-3d", "--older-than: '-3d' is not an age")]
    public async Task Prune_WithABadAge_SaysHowToWriteOne(string age, string expected)
    {
        var result = await CliHarness.RunAsync(Store, "prune", "--older-than", age);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_AStatusThatIsNotAnEnding_IsRefused()
    {
        var result = await CliHarness.RunAsync(Store, "prune", "--older-than", "1d", "--status", "Running");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--status: Only jobs that have ended are pruned; Running is not how a job ends.", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_InTheSettingsFile_IsAppliedWhenBatchopsRunStarts_PerStatus()
    {
        var old = await RunAsync("old-done", 500);
        var oldFailed = await RunAsync("old-failed", 30, i => i == 3);
        Age(old, 40);
        Age(oldFailed, 40);
        await File.WriteAllTextAsync(Path.Combine(Store, "settings.json"), """{ "retention": { "Completed": "30d", "*": "365d" } }""");
        var spec = SpecFiles.Write(_folder.Path, new { name = "today", items = new[] { new { n = 1 } }, operation = new { kind = "exec", command = "sh", args = new[] { "-c", "exit 0" } } });

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("batchops: retention: removed 1 job(s) ('old-done' Completed), 500 item(s), about ", run.Error, StringComparison.Ordinal);
        using var store = SqliteJobStore.Open(Store);
        Assert.Null(await store.GetJobAsync(old.Id));
        Assert.NotNull(await store.GetJobAsync(oldFailed.Id)); // a year for the other endings
    }

    [Fact]
    public async Task Retention_WithAStatusThatIsNotAnEnding_IsRefusedNamingTheFile()
    {
        Directory.CreateDirectory(Store);
        await File.WriteAllTextAsync(Path.Combine(Store, "settings.json"), """{ "retention": { "Running": "30d" } }""");
        var spec = SpecFiles.Write(_folder.Path, new { name = "x", items = new[] { new { n = 1 } }, operation = new { kind = "exec", command = "sh", args = new[] { "-c", "exit 0" } } });

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("settings.json': \"retention\": \"Running\" is not how a job ends; use Completed,", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_SayTheStoresSize_AndBytesPerItem()
    {
        await RunAsync("sized", 2_000);

        var text = await CliHarness.RunAsync(Store, "stats");
        var json = JsonDocument.Parse((await CliHarness.RunAsync(Store, "stats", "--json")).Out).RootElement;

        Assert.Matches(@"(?m)^Store size   [\d.]+ (KB|MB), [\d,]+ bytes per item$", text.Out);
        var bytes = json.GetProperty("storeBytes").GetInt64();
        Assert.Equal(new FileInfo(Database).Length + (File.Exists(Database + "-wal") ? new FileInfo(Database + "-wal").Length : 0), bytes, 4096.0 * 64);
        Assert.Equal(bytes / 2_000.0, json.GetProperty("bytesPerItem").GetDouble(), 1.0);
    }
}
