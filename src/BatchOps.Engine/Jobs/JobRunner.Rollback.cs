using System.Runtime.CompilerServices;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Logging;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

public sealed partial class JobRunner
{
    private const int CompensationBatch = 500;

    /// <summary>
    /// Undoes a stored job on demand: every Succeeded (and CompensationFailed) item of every stage that has
    /// an undo operation is compensated, stages in reverse dependency order, items in reverse completion
    /// order. The job is marked rolling back first, so a crash or stop resumes the compensation, and each
    /// compensation is recorded as it ends (an undo recorded is never run again). Ends RolledBack, or
    /// RollbackFailed when some compensation failed.
    /// </summary>
    public async Task<JobRunResult> UndoAsync<TIn, TOut>(string jobId, JobRunRequest<TIn, TOut> request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(request);
        var job = await _store.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreException($"There is no job '{jobId}' in '{_store.Location}'. List the jobs with Get-BatchJob or 'batchops list'.");
        if (!job.CanUndo)
        {
            throw new StoreException($"Job '{job.Name}' ({job.Id}) has no undo operation, so nothing can undo its items. Give one when creating a job (\"undo\" in a spec, -UndoScriptBlock).");
        }

        var lease = await AcquireAsync(job, cancellationToken).ConfigureAwait(false);
        await _store.BeginRollbackAsync(job.Id, cancellationToken).ConfigureAwait(false);
        return await RunLeasedAsync(job with { RollingBack = true }, lease, job.Settings.ToOptions(_time), request, inputs: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What an undo of the job would do, changing nothing (-WhatIf, --what-if): per stage in undo order, the
    /// items it would compensate, newest completion first. A stage without an undo operation is listed with
    /// the items it would leave.
    /// </summary>
    public async Task<IReadOnlyList<UndoStep>> PlanUndoAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var steps = new List<UndoStep>();
        foreach (var stage in (job.Stages is null ? job.Plan : StageOrder.Sort(job.Stages)).Reverse())
        {
            steps.Add(new UndoStep(stage, await CompletionOrderAsync(job.Id, stage, cancellationToken).ConfigureAwait(false)));
        }

        return steps;
    }

    /// <summary>Why the run just ended should be rolled back (<see cref="RollbackRule"/>), with the OnFailure the run used.</summary>
    private static string? ShouldRollBack<TIn, TOut>(JobRecord job, JobRunRequest<TIn, TOut> request, JobSummary run, ItemCounts counts) =>
        RollbackRule.Reason(request.SettingsOverride?.Over(job.Settings).OnFailure ?? job.Settings.OnFailure, job.CanUndo, run.StopReason, counts);

    private static (JobStatus Status, string Message) RollbackOutcome(ItemCounts counts, JobSummary rollback)
    {
        if (rollback.StopReason is StopReason.Cancelled or StopReason.Fault or StopReason.JobTimeout)
        {
            var status = rollback.StopReason == StopReason.Cancelled ? JobStatus.Cancelled : JobStatus.Failed;
            return (status, $"The rollback stopped ({rollback.Message ?? "cancelled"}) with {counts.Succeeded} item(s) not yet compensated; resume the job to go on compensating.");
        }

        return counts.CompensationFailed > 0
            ? (JobStatus.RollbackFailed, $"Rolled back, but {counts.CompensationFailed} compensation(s) failed; undo the job again to retry them.")
            : (JobStatus.RolledBack, $"Rolled back: {counts.Compensated} item(s) compensated.");
    }

    /// <summary>
    /// Compensates the job's succeeded items under the run's lease: stages in reverse dependency order, each
    /// stage's items in reverse completion order, one record per compensation as it ends.
    /// </summary>
    private async Task<JobSummary> CompensateAsync<TIn, TOut>(JobRecord job, JobRunRequest<TIn, TOut> request, BatchStopSource stop, JobLog log, string reason, CancellationToken cancellationToken)
    {
        var undo = request.Undo ?? throw new InvalidOperationException("JobRunRequest.Undo is required to roll back a job.");
        await _store.BeginRollbackAsync(job.Id, cancellationToken).ConfigureAwait(false);
        log.Info($"rolling back ({reason})");
        var started = _time.GetUtcNow();
        var total = new JobSummary { Status = JobStatus.RolledBack, StartedAt = started, EndedAt = started };
        foreach (var (stage, order) in await PlanUndoAsync(job, cancellationToken).ConfigureAwait(false))
        {
            var name = stage.Name.Length == 0 ? "the job" : $"stage '{stage.Name}'";
            if (order.Count == 0)
            {
                continue;
            }

            if (stage.Undo is not { } definition)
            {
                log.Info($"{name} has no undo operation: its {order.Count} succeeded item(s) are left as they are");
                continue;
            }

            var options = UndoOptions(StageOptions(job, stage, request, definition.Settings), definition.Settings);
            options.Tags = new Diagnostics.RunTags(job.Name, definition.OperationKind);
            options.TotalCount = order.Count;
            log.Info($"compensating {order.Count} item(s) of {name}, newest first");
            var items = CompensationsAsync(job.Id, stage, order, request, cancellationToken);
            var observer = new CompensationObserver<TIn, TOut>(_store, job.Id, request.UndoObserver, log);
            var run = await BatchExecutor.RunAsync(items, undo(stage), options, observer, stop, cancellationToken).ConfigureAwait(false);
            total = total.Plus(run) with { EndedAt = _time.GetUtcNow() };
            if (run.StopReason is StopReason.Cancelled or StopReason.Fault or StopReason.JobTimeout)
            {
                return total with { StopReason = run.StopReason, Status = run.Status, Message = run.Message, Fault = run.Fault };
            }
        }

        return total;
    }

    /// <summary>
    /// Undo runs one item per chunk and starts a chunk only while fewer than ThrottleLimit are unrecorded,
    /// so each compensation is recorded as soon as it ends and a crash runs again only the ones that were
    /// running; a failed compensation neither stops nor skips the rest unless the undo's own settings say so.
    /// </summary>
    private static BatchOptions UndoOptions(BatchOptions options, JobSettings undo)
    {
        options.ChunkSize = undo.ChunkSize ?? 1;
        options.OverlapCheckpoints = false;
        options.StopOnError = undo.StopOnError ?? false;
        options.MaxErrors = undo.MaxErrors;
        options.Validate();
        return options;
    }

    /// <summary>The indexes of a stage's items to compensate, newest completion first (ties: higher index first).</summary>
    private async Task<IReadOnlyList<long>> CompletionOrderAsync(string jobId, JobStage stage, CancellationToken cancellationToken)
    {
        var ended = new List<(long Index, DateTimeOffset At)>();
        var query = new ItemQuery { Statuses = [ItemStatus.Succeeded, ItemStatus.CompensationFailed] }.Within(stage);
        await foreach (var item in _store.GetItemsAsync(jobId, query, cancellationToken).ConfigureAwait(false))
        {
            // A failed compensation's time is the undo's: order it by when its item first succeeded.
            var at = item.Status == ItemStatus.CompensationFailed
                ? (await _store.GetItemHistoryAsync(jobId, item.Index, cancellationToken).ConfigureAwait(false)).FirstOrDefault(h => h.Status == ItemStatus.Succeeded)?.EndedAt
                : item.EndedAt;
            ended.Add((item.Index, at ?? DateTimeOffset.MinValue));
        }

        ended.Sort((a, b) => b.At != a.At ? b.At.CompareTo(a.At) : b.Index.CompareTo(a.Index));
        return ended.ConvertAll(e => e.Index);
    }

    /// <summary>The items to compensate in the given order, with their stored inputs and outputs, read a batch at a time.</summary>
    private async IAsyncEnumerable<BatchItem<Compensation<TIn, TOut>>> CompensationsAsync<TIn, TOut>(
        string jobId,
        JobStage stage,
        IReadOnlyList<long> order,
        JobRunRequest<TIn, TOut> request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var at = 0; at < order.Count; at += CompensationBatch)
        {
            var batch = order.Skip(at).Take(CompensationBatch).ToList();
            var stored = new Dictionary<long, StoredItem>(batch.Count);
            await foreach (var item in _store.GetItemsAsync(jobId, new ItemQuery { Indexes = batch }, cancellationToken).ConfigureAwait(false))
            {
                stored[item.Index] = item;
            }

            foreach (var index in batch)
            {
                if (!stored.TryGetValue(index, out var item) || item.Status is not (ItemStatus.Succeeded or ItemStatus.CompensationFailed))
                {
                    continue;
                }

                TIn input;
                TOut? output;
                try
                {
                    input = request.InputCodec.Deserialize(item.Input);
                    output = item.Output is null ? default : request.OutputCodec.Deserialize(item.Output);
                }
                catch (Exception error)
                {
                    throw new StoreException($"The stored input or output of item {item.Index} cannot be read: {error.Message}", error);
                }

                yield return new BatchItem<Compensation<TIn, TOut>>(item.Index, new Compensation<TIn, TOut>(input, output) { Stage = stage.Name, StoredOutput = item.Output }, item.Key);
            }
        }
    }

    /// <summary>Records each compensation as it ends (Compensated or CompensationFailed), logs failed ones, forwards the rest.</summary>
    private sealed class CompensationObserver<TIn, TOut>(IJobStore store, string jobId, BatchObserver<Compensation<TIn, TOut>, TOut>? inner, JobLog log)
        : BatchObserver<Compensation<TIn, TOut>, TOut>
    {
        public override void OnItemCompleted(ItemResult<Compensation<TIn, TOut>, TOut> result)
        {
            if (result.Status == ItemStatus.Failed && result.Error is not null)
            {
                log.CompensationFailure(result.Index, result.Key, result.Error);
            }

            inner?.OnItemCompleted(result);
        }

        public override async ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<Compensation<TIn, TOut>, TOut>> results)
        {
            // Items the rollback never started (a stop) keep their status: a resume compensates them.
            var outcomes = results
                .Where(r => r.Status is ItemStatus.Succeeded or ItemStatus.Failed)
                .Select(r => new ItemOutcome(
                    r.Index,
                    r.Status == ItemStatus.Succeeded ? ItemStatus.Compensated : ItemStatus.CompensationFailed,
                    r.Attempts,
                    r.Input.StoredOutput,
                    r.Error,
                    r.StartedAt,
                    r.EndedAt,
                    r.Duration))
                .ToList();
            if (outcomes.Count > 0)
            {
                await store.RecordCompensationsAsync(jobId, outcomes).ConfigureAwait(false);
            }

            if (inner is not null)
            {
                await inner.OnChunkCompletedAsync(chunk, results).ConfigureAwait(false);
            }
        }

        public override void OnRetry(RetryNotice notice) => inner?.OnRetry(notice);

        public override void OnProgress(Progress.ProgressSnapshot snapshot) => inner?.OnProgress(snapshot);
    }
}

/// <summary>One stage of an undo plan: the items that would be compensated, in order (none run without an undo operation).</summary>
public sealed record UndoStep(JobStage Stage, IReadOnlyList<long> Indexes);
