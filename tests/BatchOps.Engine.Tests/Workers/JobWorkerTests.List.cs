using BatchOps.Engine.Jobs;
using BatchOps.Engine.Workers;

namespace BatchOps.Engine.Tests.Workers;

/// <summary>The store's list of workers: who runs, what they hold, who went missing.</summary>
public partial class JobWorkerTests
{
    [Fact]
    public async Task ListWorkers_ShowsRunningWorkers_WithTheChunksAndJobsTheyHold_AndForgetsThemWhenTheyStop()
    {
        var job = await QueueAsync(40, new JobSettings { ChunkSize = 10, ThrottleLimit = 2 });
        using var release = new SemaphoreSlim(0);
        var busy = Worker(Handler(async (n, ct) =>
        {
            await release.WaitAsync(ct);
            return null;
        }), "busy");
        var idle = new JobWorker(_store, _ => Handler((_, _) => Task.FromResult<string?>(null)), new WorkerOptions { Name = "idle", Kinds = ["other"], Concurrency = 3, Lease = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(50) });
        using var stop = new CancellationTokenSource();
        var running = new[] { busy.RunAsync(stop.Token), idle.RunAsync(stop.Token) };

        var listed = await UntilAsync(async () => await _store.ListWorkersAsync() is { Count: 2 } all && all.Single(w => w.Name == "busy").ChunksHeld == 1 ? all : null);

        var b = listed.Single(w => w.Name == "busy");
        Assert.Equal((busy.Id, WorkerState.Busy, Environment.ProcessId, Environment.MachineName), (b.Id, b.State, b.ProcessId, b.Host));
        Assert.Equal([job.Id], b.Jobs);
        Assert.Equal(["test"], b.Kinds);
        var i = listed.Single(w => w.Name == "idle");
        Assert.Equal((idle.Id, WorkerState.Idle, 0, 3, TimeSpan.FromSeconds(5)), (i.Id, i.State, i.ChunksHeld, i.Concurrency, i.Lease));
        Assert.Empty(i.Jobs);
        Assert.True(i.SeenAt >= i.StartedAt);

        release.Release(1_000);
        await UntilAsync(async () => (await _store.GetJobAsync(job.Id))!.Status == JobStatus.Completed ? (object)true : null);
        await stop.CancelAsync();
        await Task.WhenAll(running).WaitAsync(Bound);

        Assert.Empty(await _store.ListWorkersAsync());
    }

    [Fact]
    public async Task ListWorkers_AWorkerNotSeenForLongerThanItsLease_IsMissing_AndADayLaterForgotten()
    {
        var gone = new WorkerPresence("gone", new WorkerIdentity("w1", "host-a", 4242), ["exec", "http"], 2, TimeSpan.FromSeconds(30), 17);
        var live = gone with { Id = "live", Identity = new WorkerIdentity("w2", "host-b", 4343) };
        await _store.ReportWorkerAsync(gone);
        await _store.ReportWorkerAsync(live);
        Assert.All(await _store.ListWorkersAsync(), w => Assert.Equal(WorkerState.Idle, w.State));

        // Last seen a minute ago, as far as the store knows: twice its lease.
        await ExecuteAsync("UPDATE batchops.workers SET seen_at = seen_at - interval '1 minute' WHERE id = 'gone'");
        var missing = (await _store.ListWorkersAsync()).Single(w => w.Id == "gone");
        Assert.Equal((WorkerState.Missing, "w1", "host-a", 4242, 17L), (missing.State, missing.Name, missing.Host, missing.ProcessId, missing.ChunksRecorded));
        Assert.Equal(["exec", "http"], missing.Kinds);

        // A day later, the next worker's beat forgets it; the live one stays.
        await ExecuteAsync("UPDATE batchops.workers SET seen_at = seen_at - interval '1 day' WHERE id = 'gone'");
        await _store.ReportWorkerAsync(live with { ChunksRecorded = 5 });
        var left = Assert.Single(await _store.ListWorkersAsync());
        Assert.Equal(("live", 5L), (left.Id, left.ChunksRecorded));
    }

    [Fact]
    public async Task AWorkerStartingWithTheNameOfARunningOne_WarnsThatTheyCannotBeToldApart()
    {
        var events = new System.Collections.Concurrent.ConcurrentQueue<WorkerEvent>();
        var first = Worker(Handler((_, _) => Task.FromResult<string?>(null)), "twin");
        var second = Worker(Handler((_, _) => Task.FromResult<string?>(null)), "twin");
        var other = Worker(Handler((_, _) => Task.FromResult<string?>(null)), "single");
        first.Reported += events.Enqueue;
        other.Reported += events.Enqueue;
        using var stop = new CancellationTokenSource();
        var running = new List<Task> { first.RunAsync(stop.Token), other.RunAsync(stop.Token) };
        await UntilAsync(async () => (await _store.ListWorkersAsync()).Count == 2 ? (object)true : null);
        Assert.Empty(events);

        second.Reported += events.Enqueue;
        running.Add(second.RunAsync(stop.Token));
        var warning = await UntilAsync(() => Task.FromResult(events.FirstOrDefault(e => e.Kind == WorkerEventKind.NameInUse)));
        await stop.CancelAsync();
        await Task.WhenAll(running).WaitAsync(Bound);

        Assert.Contains($"another running worker is named 'twin' (host {Environment.MachineName}, process {Environment.ProcessId})", warning.Message, StringComparison.Ordinal);
        Assert.Contains("--name, -Name", warning.Message, StringComparison.Ordinal);
        Assert.Single(events, e => e.Kind == WorkerEventKind.NameInUse);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>Polls until <paramref name="probe"/> returns a value (bounded).</summary>
    private static async Task<T> UntilAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + Bound;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Not reached within {Bound}.");
    }
}
