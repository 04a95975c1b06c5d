using BatchOps.Engine.Diagnostics;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Logging;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

public sealed partial class JobRunner
{
    /// <summary>The error type recorded on the items of a stage that was skipped because a dependency did not complete.</summary>
    public const string DependencyNotCompleted = "DependencyNotCompleted";

    /// <summary>
    /// The error recorded on the unfinished items of <paramref name="stage"/> when the stages in
    /// <paramref name="blocked"/>, which it depends on, ended without completing (by a run or by workers).
    /// </summary>
    public static ItemError DependencyError(JobStage stage, IReadOnlyList<string> blocked)
    {
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(blocked);
        var reason = $"stage '{stage.Name}' did not run: {(blocked.Count == 1 ? "its dependency" : "its dependencies")} '{string.Join("', '", blocked)}' did not complete";
        return new ItemError(DependencyNotCompleted, reason, null, isRetryable: false);
    }

    /// <summary>
    /// Runs a staged job: each stage starts once every stage it depends on has completed (every item
    /// Succeeded), so independent stages run at the same time; a stage whose dependency did not complete
    /// records its unfinished items Skipped with the reason. A resume or retry walks the same plan: stages
    /// already complete have nothing left to run.
    /// </summary>
    private async Task<JobSummary> RunStagesAsync<TIn, TOut>(
        JobRecord job,
        JobRunRequest<TIn, TOut> request,
        BatchStopSource stop,
        JobLog log,
        CancellationToken cancellationToken)
    {
        var order = StageOrder.Sort(job.Stages!);
        IReadOnlyList<long>? retried = null;
        if (request.Kind == RunKind.RetryFailed)
        {
            var stage = request.Stage is null ? null : job.Stage(request.Stage)
                ?? throw new StoreException($"Job '{job.Name}' ({job.Id}) has no stage '{request.Stage}'. Its stages: {string.Join(", ", order.Select(s => s.Name))}.");
            var wanted = stage is null ? request.Indexes : (request.Indexes ?? LongRange(stage)).Where(stage.Contains).ToList();
            retried = await _store.ResetFailedAsync(job.Id, await RetryableAsync(job.Id, wanted, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }

        log.Start(job, request.Kind, retried?.Count ?? job.Counts.Unfinished);
        log.Info($"stages in order: {string.Join(" -> ", order.Select(s => s.DependsOn.Count == 0 ? s.Name : $"{s.Name} (after {string.Join(", ", s.DependsOn)})"))}");
        var started = _time.GetUtcNow();
        var runs = new Dictionary<string, Task<(bool Complete, JobSummary? Run)>>(StringComparer.OrdinalIgnoreCase);
        foreach (var stage in order)
        {
            var dependencies = stage.DependsOn.Select(d => runs[d]).ToList();
            runs[stage.Name] = RunStageAsync(job, stage, dependencies, request, stop, log, cancellationToken);
        }

        var results = await Task.WhenAll(order.Select(s => runs[s.Name])).ConfigureAwait(false);
        var stopped = results.Select(r => r.Run).FirstOrDefault(r => r is { StopReason: not StopReason.None });
        var sum = new JobSummary { Status = JobStatus.Completed, StartedAt = started, EndedAt = _time.GetUtcNow() };
        foreach (var (_, run) in results)
        {
            if (run is not null)
            {
                sum = sum.Plus(run);
            }
        }

        return sum with
        {
            StopReason = stopped?.StopReason ?? StopReason.None,
            Status = stopped?.Status ?? JobSummary.StatusFor(StopReason.None, sum.Succeeded, sum.Failed),
            Message = stopped?.Message,
            Fault = stopped?.Fault,
        };
    }

    private static IEnumerable<long> LongRange(JobStage stage)
    {
        for (var i = stage.FirstIndex; i <= stage.LastIndex; i++)
        {
            yield return i;
        }
    }

    private async Task<(bool Complete, JobSummary? Run)> RunStageAsync<TIn, TOut>(
        JobRecord job,
        JobStage stage,
        IReadOnlyList<Task<(bool Complete, JobSummary? Run)>> dependencies,
        JobRunRequest<TIn, TOut> request,
        BatchStopSource stop,
        JobLog log,
        CancellationToken cancellationToken)
    {
        var waited = await Task.WhenAll(dependencies).ConfigureAwait(false);
        var unfinished = await CountAsync(job.Id, ItemQuery.Unfinished.Within(stage), cancellationToken).ConfigureAwait(false);
        var observer = request.StageObserver?.Invoke(stage) ?? request.Observer;
        if (stop.IsStopRequested)
        {
            // Stopped by the caller: the stage's items stay as they are for a resume.
            return (false, null);
        }

        if (waited.Any(w => !w.Complete))
        {
            var error = DependencyError(stage, [.. stage.DependsOn.Where((_, i) => !waited[i].Complete)]);
            await SkipStageAsync(job.Id, stage, error, observer, request.InputCodec, cancellationToken).ConfigureAwait(false);
            log.Info($"{error.Message}; its {unfinished} unfinished item(s) are recorded Skipped");
            return (false, null);
        }

        if (unfinished > 0)
        {
            var options = StageOptions(job, stage, request);
            options.TotalCount = unfinished;
            log.Info($"stage '{stage.Name}' started: {unfinished} item(s), operation {stage.OperationKind}; settings: {stage.Settings.Over(job.Settings)}");
            var items = ReadItemsAsync(job.Id, ItemQuery.Unfinished.Within(stage) with { InputsOnly = true }, request.InputCodec, cancellationToken);
            var keep = stage.Settings.Over(job.Settings).KeepOutput ?? OutputKeeping.All;
            var durable = new DurableObserver<TIn, TOut>(_store, job.Id, request.OutputCodec, observer, log, recordItems: false, request.InputCodec, tags: options.Tags, keep: keep);
            var run = await BatchExecutor.RunAsync(items, request.OperationFor(stage), options, durable, stop, cancellationToken).ConfigureAwait(false);
            var left = await CountAsync(job.Id, new ItemQuery { Statuses = NotSucceeded }.Within(stage), cancellationToken).ConfigureAwait(false);
            log.Info($"stage '{stage.Name}' ended: {run.Succeeded} succeeded, {run.Failed} failed, {run.Skipped + run.Cancelled} not run{(left == 0 ? "; complete" : $"; {left} item(s) of the stage have not succeeded")}");
            return (left == 0, run);
        }

        var remaining = await CountAsync(job.Id, new ItemQuery { Statuses = NotSucceeded }.Within(stage), cancellationToken).ConfigureAwait(false);
        return (remaining == 0, null);
    }

    private static readonly ItemStatus[] NotSucceeded =
        [ItemStatus.Pending, ItemStatus.Running, ItemStatus.Failed, ItemStatus.Skipped, ItemStatus.Cancelled, ItemStatus.Compensated, ItemStatus.CompensationFailed];

    /// <summary>The engine options of one stage: the run's override over the stage's settings over the job's.</summary>
    private BatchOptions StageOptions<TIn, TOut>(JobRecord job, JobStage stage, JobRunRequest<TIn, TOut> request, JobSettings? top = null)
    {
        var settings = stage.Settings.Over(job.Settings);
        if (top is not null)
        {
            settings = top.Over(settings);
        }

        var options = (request.SettingsOverride?.Over(settings) ?? settings).ToOptions(_time);
        options.Tags = new RunTags(job.Name, stage.OperationKind);
        request.Configure?.Invoke(options);
        options.Validate();
        return options;
    }

    private async Task<long> CountAsync(string jobId, ItemQuery query, CancellationToken cancellationToken)
    {
        long count = 0;
        await foreach (var _ in _store.GetItemsAsync(jobId, query with { InputsOnly = false }, cancellationToken).ConfigureAwait(false))
        {
            count++;
        }

        return count;
    }

    /// <summary>Records a stage's unfinished items Skipped with the error, a thousand per transaction, reporting each.</summary>
    private async Task SkipStageAsync<TIn, TOut>(string jobId, JobStage stage, ItemError error, BatchObserver<TIn, TOut>? observer, IPayloadCodec<TIn> inputCodec, CancellationToken cancellationToken)
    {
        var outcomes = new List<ItemOutcome>(CreateBatchSize);
        await foreach (var item in _store.GetItemsAsync(jobId, ItemQuery.Unfinished.Within(stage) with { InputsOnly = true }, cancellationToken).ConfigureAwait(false))
        {
            var now = _time.GetUtcNow();
            outcomes.Add(new ItemOutcome(item.Index, ItemStatus.Skipped, 0, null, error, null, now, TimeSpan.Zero));
            if (observer is not null)
            {
                observer.OnItemCompleted(new ItemResult<TIn, TOut> { Index = item.Index, Key = item.Key, Input = inputCodec.Deserialize(item.Input), Status = ItemStatus.Skipped, EndedAt = now, Error = error });
            }

            if (outcomes.Count == CreateBatchSize)
            {
                await _store.CheckpointAsync(jobId, outcomes, cancellationToken).ConfigureAwait(false);
                outcomes.Clear();
            }
        }

        if (outcomes.Count > 0)
        {
            await _store.CheckpointAsync(jobId, outcomes, cancellationToken).ConfigureAwait(false);
        }
    }
}
