using System.Collections.Concurrent;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;

namespace BatchOps.Engine.Tests.Workers;

/// <summary>Queued jobs that roll back on failure: the worker that ends the job compensates it.</summary>
public partial class JobWorkerTests
{
    private async Task<JobRecord> QueueRollingAsync(int count, JobSettings settings)
    {
        var job = await new JobRunner(_store).CreateAsync(
            new JobDefinition
            {
                Name = "rolling", OperationKind = "test", Operation = "{}", Settings = settings with { OnFailure = FailureAction.Rollback },
                Undo = new UndoDefinition { OperationKind = "test", Operation = "{}" },
            },
            Enumerable.Range(0, count).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        await _store.EnqueueAsync(job.Id);
        return job;
    }

    /// <summary>A handler whose items fail when <paramref name="fails"/> says so, and whose undo records what it undid.</summary>
    private static QueuedJobHandler RollingHandler(Func<int, bool> fails, ConcurrentQueue<(int Item, string? Output)> undone) => QueuedJobHandler.Create(new JobRunRequest<JsonElement, string?>
    {
        Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) =>
            fails(item.Value.GetInt32()) ? throw new InvalidOperationException($"item {item.Value.GetInt32()} is bad") : ValueTask.FromResult<string?>($"made {item.Value.GetInt32()}")),
        Undo = _ => BatchOperation<Compensation<JsonElement, string?>, string?>.PerItem((item, _) =>
        {
            undone.Enqueue((item.Value.Input.GetInt32(), item.Value.Output));
            return ValueTask.FromResult<string?>(null);
        }),
        InputCodec = JsonPayloadCodec.Instance,
        OutputCodec = TextPayloadCodec.Instance,
    });

    [Fact]
    public async Task QueuedJobThatRollsBackOnFailure_IsCompensatedByTheWorkerThatEndsIt_NewestFirst_EachOnce()
    {
        var job = await QueueRollingAsync(60, new JobSettings { ChunkSize = 10, ThrottleLimit = 1 });
        var undone = new ConcurrentQueue<(int Item, string? Output)>();
        var handler = RollingHandler(n => n == 47, undone);

        var ended = await RunUntilEndedAsync(job.Id, Worker(handler, "a"), Worker(handler, "b"));

        Assert.Equal(JobStatus.RolledBack, ended.Status);
        Assert.Equal("Rolled back: 59 item(s) compensated.", ended.Message);
        Assert.Equal((59L, 1L, 0L), (ended.Counts.Compensated, ended.Counts.Failed, ended.Counts.Succeeded));
        Assert.Equal(Enumerable.Range(0, 60).Where(n => n != 47), undone.Select(u => u.Item).Order());
        Assert.All(undone, u => Assert.Equal($"made {u.Item}", u.Output));

        // Newest completion first: within a chunk (its items ran one after another) the last is undone first.
        var order = undone.Select(u => u.Item).ToList();
        Assert.True(order.IndexOf(9) < order.IndexOf(0) && order.IndexOf(59) < order.IndexOf(50), $"undo order: {string.Join(",", order)}");
        Assert.False(ended.Queued);
    }

    [Fact]
    public async Task QueuedJobHandedToItsRollback_WhoseWorkerDiedBeforeCompensating_IsRolledBackByAnIdleWorker()
    {
        var job = await QueueRollingAsync(20, new JobSettings { ChunkSize = 10 });
        while (await _store.ClaimNextAsync(Hand, job.Id, null, TimeSpan.FromMinutes(1)) is { } chunk)
        {
            Assert.True(await _store.CompleteAsync(chunk.Claim, [.. chunk.Items.Select(i => i.Index == 3
                ? new ItemOutcome(i.Index, ItemStatus.Failed, 1, null, new ItemError("Bad", "item 3 is bad", null, false), null, DateTimeOffset.UtcNow, TimeSpan.Zero)
                : new ItemOutcome(i.Index, ItemStatus.Succeeded, 1, $"made {i.Index}", null, null, DateTimeOffset.UtcNow, TimeSpan.Zero))], default));
        }

        // Handed over once, then nothing: the job is not ended, reads as the queue's, and says why.
        var handed = await _store.TryFinishAsync(job.Id);
        Assert.True(handed!.RollingBack);
        Assert.Null(await _store.TryFinishAsync(job.Id));
        var waiting = (await _store.GetJobAsync(job.Id))!;
        Assert.Equal((JobStatus.Queued, "Rolling back: 1 item(s) failed."), (waiting.Status, waiting.Message));
        Assert.Contains(job.Id, await _store.StalledJobsAsync());

        // Its worker took no lease within the grace (a minute has passed, as far as the store knows).
        await using (var connection = new Npgsql.NpgsqlConnection(_database))
        {
            await connection.OpenAsync();
            await using var backdate = new Npgsql.NpgsqlCommand($"UPDATE batchops.jobs SET heartbeat_at = heartbeat_at - interval '1 minute' WHERE id = '{job.Id}'", connection);
            Assert.Equal(1, await backdate.ExecuteNonQueryAsync());
        }

        var undone = new ConcurrentQueue<(int Item, string? Output)>();
        var worker = new JobWorker(_store, _ => RollingHandler(_ => false, undone), new WorkerOptions { Name = "idle", Kinds = ["test"], ExitWhenIdle = true });
        await worker.RunAsync(CancellationToken.None).WaitAsync(Bound);

        var ended = (await _store.GetJobAsync(job.Id))!;
        Assert.Equal((JobStatus.RolledBack, 19L), (ended.Status, ended.Counts.Compensated));
        Assert.Equal(Enumerable.Range(0, 20).Where(n => n != 3), undone.Select(u => u.Item).Order());
        Assert.Empty(await _store.StalledJobsAsync());
    }

    [Fact]
    public async Task QueuedJobThatRollsBackOnFailure_WhenNothingFails_CompletesWithNothingUndone()
    {
        var job = await QueueRollingAsync(30, new JobSettings { ChunkSize = 10 });
        var undone = new ConcurrentQueue<(int Item, string? Output)>();

        var ended = await RunUntilEndedAsync(job.Id, Worker(RollingHandler(_ => false, undone), "a"));

        Assert.Equal((JobStatus.Completed, 30L), (ended.Status, ended.Counts.Succeeded));
        Assert.Empty(undone);
    }
}
