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

    [Fact]
    public async Task AWorkerAskedToStopThroughTheStore_FinishesTheChunkInHand_ClaimsNoMore_AndLeavesTheList()
    {
        var job = await QueueAsync(40, new JobSettings { ChunkSize = 10, ThrottleLimit = 2 });
        using var release = new SemaphoreSlim(0);
        var started = 0;
        var asked = Worker(Handler(async (n, ct) =>
        {
            Interlocked.Increment(ref started);
            await release.WaitAsync(ct);
            return null;
        }), "asked");
        var events = new System.Collections.Concurrent.ConcurrentQueue<WorkerEvent>();
        asked.Reported += events.Enqueue;
        using var never = new CancellationTokenSource();
        var running = asked.RunAsync(never.Token);
        await UntilAsync(async () => (await _store.ListWorkersAsync()).SingleOrDefault(w => w.ChunksHeld == 1 && Volatile.Read(ref started) == 2));

        Assert.Empty(await _store.AskWorkersToStopAsync(["no-such-worker"]));
        Assert.Equal([asked.Id], await _store.AskWorkersToStopAsync([asked.Id, "no-such-worker"]));

        // Listed as Stopping at once; the worker hears it at its next presence beat.
        var stopping = Assert.Single(await _store.ListWorkersAsync());
        Assert.Equal(WorkerState.Stopping, stopping.State);
        Assert.NotNull(stopping.StopAskedAt);
        var heard = await UntilAsync(() => Task.FromResult(events.FirstOrDefault(e => e.Kind == WorkerEventKind.StopAsked)));
        Assert.Contains($"finishing the chunks in hand (job(s) {job.Id})", heard.Message, StringComparison.Ordinal);
        release.Release(1_000);
        await running.WaitAsync(Bound);

        // The chunk in hand ran to its end and was recorded; no other chunk was claimed.
        Assert.Empty(await _store.ListWorkersAsync());
        var left = (await _store.GetJobAsync(job.Id))!;
        Assert.Equal((10L, 30L), (left.Counts.Succeeded, left.Counts.Pending));
        Assert.Equal(10, Volatile.Read(ref started));
        Assert.Single(events, e => e.Kind == WorkerEventKind.Claimed);

        var ended = await RunUntilEndedAsync(job.Id, Worker(Handler((_, _) => Task.FromResult<string?>(null)), "next"));
        Assert.Equal((JobStatus.Completed, 40L), (ended.Status, ended.Counts.Succeeded));
    }

    [Fact]
    public async Task WorkerStop_AsksTheRunningWorkersOnly_AndReturnsThemStopping()
    {
        var gone = new WorkerPresence("gone", new WorkerIdentity("w1", "host-a", 4242), ["exec"], 1, TimeSpan.FromSeconds(30), 0);
        var live = gone with { Id = "live", Identity = new WorkerIdentity("w2", "host-b", 4343) };
        await _store.ReportWorkerAsync(gone);
        await _store.ReportWorkerAsync(live);
        await ExecuteAsync("UPDATE batchops.workers SET seen_at = seen_at - interval '1 minute' WHERE id = 'gone'");
        var listed = await _store.ListWorkersAsync();

        var asked = await WorkerStop.AskAsync(_store, listed);

        var stopping = Assert.Single(asked);
        Assert.Equal(("live", WorkerState.Stopping), (stopping.Id, stopping.State));
        var missing = (await _store.ListWorkersAsync()).Single(w => w.Id == "gone");
        Assert.Equal((WorkerState.Missing, (DateTimeOffset?)null), (missing.State, missing.StopAskedAt));
        Assert.Contains("worker 'w1' (host host-a, process 4242) is Missing", WorkerStop.MissingMessage(missing), StringComparison.Ordinal);
        Assert.True(await _store.ReportWorkerAsync(live));
        Assert.Empty(await WorkerStop.AskAsync(_store, [missing]));
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
