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

/// <summary>Notices a job's end still owes (their sender died), sent by an idle worker.</summary>
public partial class JobWorkerTests
{
    /// <summary>A notifier that claims each due notice and records it sent, counting what it sent.</summary>
    private sealed class CountingNotifier : BatchOps.Engine.Notifications.IJobNotifier
    {
        public int Sent;

        public async Task<IReadOnlyList<BatchOps.Engine.Notifications.NoticeRecord>> NotifyAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken = default)
        {
            var done = new List<BatchOps.Engine.Notifications.NoticeRecord>();
            for (var target = 0; target < job.Notify!.Count; target++)
            {
                if (job.Notify[target].On.Contains(job.Status) && await store.ClaimNoticeAsync(job.Id, target, job.EndedAt!.Value, TimeSpan.FromMinutes(1), false, cancellationToken) is { } claimed)
                {
                    Interlocked.Increment(ref Sent);
                    await store.RecordNoticeAsync(job.Id, target, job.EndedAt.Value, sent: true, attempts: 1, error: null, cancellationToken);
                    done.Add(claimed with { Status = BatchOps.Engine.Notifications.NoticeStatus.Sent });
                }
            }

            return done;
        }
    }

    [Fact]
    public async Task AnIdleWorker_SendsTheNoticeAJobsEndStillOwes_OnceItsDeadSendersClaimRanOut()
    {
        var job = await new JobRunner(_store).CreateAsync(
            new JobDefinition
            {
                Name = "owed", OperationKind = "test", Operation = "{}",
                Notify = [new BatchOps.Engine.Notifications.NotificationTarget { On = [JobStatus.Failed], Webhook = "env:HOOK" }],
            },
            Enumerable.Range(0, 3).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        var lease = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        Assert.True(await _store.TryAcquireLeaseAsync(job.Id, lease));
        await _store.ReleaseLeaseAsync(job.Id, lease, JobStatus.Failed, "it failed");
        var ended = (await _store.GetJobAsync(job.Id))!;
        // Its sender claimed the notice and died: the claim has run out.
        Assert.NotNull(await _store.ClaimNoticeAsync(job.Id, 0, ended.EndedAt!.Value, TimeSpan.FromSeconds(-1), retryFailed: false));

        var notifier = new CountingNotifier();
        var handler = QueuedJobHandler.Create(new JobRunRequest<JsonElement, string?>
        {
            Operation = BatchOperation<JsonElement, string?>.PerItem((_, _) => ValueTask.FromResult<string?>(null)),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            Notifier = notifier,
        });
        var events = new ConcurrentQueue<WorkerEvent>();
        var worker = new JobWorker(_store, _ => handler, new WorkerOptions { Name = "sweeper", Kinds = ["test"], ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        worker.Reported += events.Enqueue;
        await worker.RunAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(1, notifier.Sent);
        Assert.Equal(BatchOps.Engine.Notifications.NoticeStatus.Sent, Assert.Single(await _store.GetNoticesAsync(job.Id)).Status);
        Assert.Empty(await _store.JobsWithNoticesDueAsync(failed: false));
        Assert.Contains(events, e => e.Kind == WorkerEventKind.NoticeSent && e.Message.Contains("notice sent: webhook env:HOOK (json)", StringComparison.Ordinal));
    }
}
