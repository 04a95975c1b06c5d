using System.Collections.Concurrent;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;

namespace BatchOps.Engine.Tests.Workers;

/// <summary>Queued work that no running worker takes, as the list of workers says it.</summary>
public partial class JobWorkerTests
{
    [Fact]
    public async Task Waiting_NamesTheChunksOfAKindNoRunningWorkerRuns_UntilAWorkerOfThatKindRuns()
    {
        var job = await new JobRunner(_store).CreateAsync(
            new JobDefinition { Name = "other-kind", OperationKind = "other", Operation = "{}", Settings = new JobSettings { ChunkSize = 10 } },
            Enumerable.Range(0, 30).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        await _store.EnqueueAsync(job.Id);
        var fleet = await QueueAsync(10, new JobSettings { ChunkSize = 10 });
        await _store.ReportWorkerAsync(new WorkerPresence("w1", new WorkerIdentity("w1", "host-a", 1), ["test"], 1, TimeSpan.FromMinutes(5), 0));

        Assert.Equal([new OpenWork(job.Id, "other-kind", "other", 3), new OpenWork(fleet.Id, "fleet", "test", 1)], await _store.ListOpenWorkAsync());
        var waiting = Assert.Single(await WaitingWork.FindAsync(_store, _store, await _store.ListWorkersAsync()));
        Assert.Equal((job.Id, "other", 3L), (waiting.JobId, Assert.Single(waiting.Kinds), waiting.Chunks));
        Assert.Equal($"Job 'other-kind' ({job.Id}): 3 chunk(s) of kind other wait for a worker that runs other; none running does. Start one with: batchops worker --kinds other, or Start-BatchWorker.", waiting.Message);

        // A claimed chunk is not open; a chunk whose lease ran out is again.
        var claimed = await _store.ClaimNextAsync(Hand, job.Id, null, TimeSpan.FromMinutes(1));
        Assert.Equal([new OpenWork(job.Id, "other-kind", "other", 2)], await _store.ListOpenWorkAsync(job.Id));
        await ExecuteAsync($"UPDATE batchops.job_chunks SET lease_until = clock_timestamp() - interval '1 second' WHERE job_id = '{job.Id}' AND first_idx = {claimed!.Claim.FirstIndex}");
        Assert.Equal(3, Assert.Single(await _store.ListOpenWorkAsync(job.Id)).Chunks);

        // A running worker of that kind takes it; once it went missing, the job waits again.
        await _store.ReportWorkerAsync(new WorkerPresence("w2", new WorkerIdentity("w2", "host-b", 2), ["other"], 1, TimeSpan.FromSeconds(5), 0));
        Assert.Empty(await WaitingWork.FindAsync(_store, _store, await _store.ListWorkersAsync()));
        await ExecuteAsync("UPDATE batchops.workers SET seen_at = seen_at - interval '1 minute' WHERE id = 'w2'");
        Assert.Equal(job.Id, Assert.Single(await WaitingWork.FindAsync(_store, _store, await _store.ListWorkersAsync())).JobId);

        // A job asked to stop waits for nothing.
        await _store.RequestStopAsync(job.Id, StopMode.Graceful);
        Assert.Empty(await _store.ListOpenWorkAsync(job.Id));
    }

    [Fact]
    public async Task AWorkerThatDoesNotRunEveryUndoKind_LeavesTheEndOfAJobThatRollsBack_ToOneThatDoes()
    {
        var job = await new JobRunner(_store).CreateAsync(
            new JobDefinition
            {
                Name = "rolling", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 10, OnFailure = FailureAction.Rollback },
                Undo = new UndoDefinition { OperationKind = "undo", Operation = "{}" },
            },
            Enumerable.Range(0, 20).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        await _store.EnqueueAsync(job.Id);
        var undone = new ConcurrentQueue<(int Item, string? Output)>();
        var handler = RollingHandler(n => n == 3, undone);

        // Runs every chunk, but ending the job would start a rollback it cannot run: it leaves the job queued.
        var runsOnly = new JobWorker(_store, _ => handler, new WorkerOptions { Name = "runs-only", Kinds = ["test"], ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        await runsOnly.RunAsync(CancellationToken.None).WaitAsync(Bound);
        var left = (await _store.GetJobAsync(job.Id))!;
        Assert.True(left.Status is JobStatus.Queued or JobStatus.Running, $"ended: {left.Status}");
        Assert.Equal((false, 19L, 1L), (left.RollingBack, left.Counts.Succeeded, left.Counts.Failed));
        Assert.Empty(undone);

        // The list of workers says what it waits for while only such workers run.
        await _store.ReportWorkerAsync(new WorkerPresence("w1", new WorkerIdentity("runs-only-2", "host-a", 1), ["test"], 1, TimeSpan.FromMinutes(5), 0));
        var waiting = Assert.Single(await WaitingWork.FindAsync(_store, _store, await _store.ListWorkersAsync()));
        Assert.Equal((job.Id, 0L), (waiting.JobId, waiting.Chunks));
        Assert.Equal(["undo"], waiting.Kinds);
        Assert.Contains("every undo kind (undo)", waiting.Message, StringComparison.Ordinal);

        // A worker that runs both ends it and compensates every succeeded item.
        var both = new JobWorker(_store, _ => handler, new WorkerOptions { Name = "both", Kinds = ["test", "undo"], ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        await both.RunAsync(CancellationToken.None).WaitAsync(Bound);
        var ended = (await _store.GetJobAsync(job.Id))!;
        Assert.Equal((JobStatus.RolledBack, 19L), (ended.Status, ended.Counts.Compensated));
        Assert.Equal(Enumerable.Range(0, 20).Where(n => n != 3), undone.Select(u => u.Item).Order());
        Assert.Empty(await WaitingWork.FindAsync(_store, _store, await _store.ListWorkersAsync()));
    }
}
