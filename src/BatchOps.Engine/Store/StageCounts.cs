using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>What a store keeps for one stage of a job: its items by status and when its items ran.</summary>
/// <param name="Stage">The stage's position in <see cref="JobRecord.Stages"/>.</param>
/// <param name="Counts">Its items by status.</param>
/// <param name="StartedAt">The first start any checkpoint recorded in the stage (undo runs leave times alone); null before one ran.</param>
/// <param name="EndedAt">The last end any checkpoint recorded in the stage.</param>
public sealed record StageTally(int Stage, ItemCounts Counts, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt)
{
    /// <summary>Tallies from a scan of the job's items: the contract's default, for stores that keep no counts.</summary>
    public static async Task<IReadOnlyList<StageTally>> ScanAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        var tallies = new List<StageTally>();
        for (var s = 0; s < (job.Stages?.Count ?? 0); s++)
        {
            var counts = new ItemCounts();
            DateTimeOffset? started = null, ended = null;
            await foreach (var item in store.GetItemsAsync(job.Id, ItemQuery.All.Within(job.Stages![s]), cancellationToken).ConfigureAwait(false))
            {
                counts = counts.With(item.Status, 1);
                if (item.StartedAt is { } start && item.Status is not (ItemStatus.Compensated or ItemStatus.CompensationFailed))
                {
                    started = started is null || start < started ? start : started;
                    ended = item.EndedAt is { } end && (ended is null || end > ended) ? end : ended;
                }
            }

            tallies.Add(new StageTally(s, counts, started, ended));
        }

        return tallies;
    }
}

/// <summary>The index range and time span of the items a checkpoint ran, which widens the times of the stages it touches.</summary>
/// <param name="FirstIndex">The lowest index that ran.</param>
/// <param name="LastIndex">The highest index that ran.</param>
/// <param name="StartedAt">The first start.</param>
/// <param name="EndedAt">The last end.</param>
public readonly record struct StageWindow(long FirstIndex, long LastIndex, DateTimeOffset StartedAt, DateTimeOffset EndedAt)
{
    /// <summary>The window of the outcomes whose items started (skips and cancellations before a start leave times alone); null when none did.</summary>
    public static StageWindow? Of(IReadOnlyList<ItemOutcome> outcomes)
    {
        StageWindow? window = null;
        foreach (var outcome in outcomes)
        {
            if (outcome.StartedAt is not { } started)
            {
                continue;
            }

            window = window is not { } w
                ? new StageWindow(outcome.Index, outcome.Index, started, outcome.EndedAt)
                : new StageWindow(
                    Math.Min(w.FirstIndex, outcome.Index), Math.Max(w.LastIndex, outcome.Index),
                    started < w.StartedAt ? started : w.StartedAt, outcome.EndedAt > w.EndedAt ? outcome.EndedAt : w.EndedAt);
        }

        return window;
    }
}

/// <summary>One stage of a job with its item counts and where it stands, for show, Get-BatchJob, statistics and exports.</summary>
/// <param name="Stage">The stage as planned.</param>
/// <param name="Counts">Its items by status.</param>
/// <param name="StartedAt">When its first item started; null before any ran.</param>
/// <param name="EndedAt">When its last item that ran ended.</param>
public sealed record StageSummary(JobStage Stage, ItemCounts Counts, DateTimeOffset? StartedAt = null, DateTimeOffset? EndedAt = null)
{
    /// <summary>
    /// Where the stage stands, from its items: Completed, CompletedWithErrors, Skipped (a dependency did
    /// not complete), RolledBack, Pending (nothing ran yet) or Unfinished.
    /// </summary>
    public string Status => Counts switch
    {
        { Total: 0 } or { Pending: > 0, Succeeded: 0, Failed: 0, Skipped: 0, Compensated: 0, CompensationFailed: 0 } => "Pending",
        { Compensated: > 0 } or { CompensationFailed: > 0 } => Counts.CompensationFailed > 0 ? "RollbackFailed" : "RolledBack",
        { Skipped: var s } when s == Counts.Total => "Skipped",
        { Unfinished: > 0 } => "Unfinished",
        { Failed: 0 } => "Completed",
        _ => "CompletedWithErrors",
    };

    /// <summary>From its first start to its last end; null before any item ran.</summary>
    public TimeSpan? Duration => StartedAt is { } started && EndedAt is { } ended ? ended - started : null;

    /// <summary>Items that ran to an end (succeeded or failed) per second of <see cref="Duration"/>; null before any ran.</summary>
    public double? ItemsPerSecond => Duration is { TotalSeconds: > 0 } d ? (Counts.Succeeded + Counts.Failed) / d.TotalSeconds : null;

    /// <summary>The stages of a job with their counts (kept by the store: a lookup, not a scan of the items), in the order they run; empty for a job without stages.</summary>
    public static async Task<IReadOnlyList<StageSummary>> ReadAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        if (job.Stages is null)
        {
            return [];
        }

        var tallies = (await store.GetStageTalliesAsync(job, cancellationToken).ConfigureAwait(false)).ToDictionary(t => t.Stage);
        var summaries = new List<StageSummary>();
        foreach (var stage in StageOrder.Sort(job.Stages))
        {
            var position = IndexOf(job.Stages, stage);
            summaries.Add(tallies.TryGetValue(position, out var tally)
                ? new StageSummary(stage, tally.Counts, tally.StartedAt, tally.EndedAt)
                : new StageSummary(stage, new ItemCounts()));
        }

        return summaries;
    }

    private static int IndexOf(IReadOnlyList<JobStage> stages, JobStage stage)
    {
        for (var i = 0; i < stages.Count; i++)
        {
            if (string.Equals(stages[i].Name, stage.Name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// A stage's counts and rate, flat for output (Get-BatchStatistics -Id, <c>batchops stats --job</c>, the API):
/// a job without stages reports one unnamed stage over all its items, timed by its latest run.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="Stage">The stage's name; empty for a job without stages.</param>
/// <param name="DependsOn">The stages it runs after.</param>
/// <param name="Status">Where it stands (<see cref="StageSummary.Status"/>).</param>
/// <param name="OperationKind">What its items run.</param>
/// <param name="Counts">Its items by status.</param>
/// <param name="StartedAt">Its first start.</param>
/// <param name="EndedAt">Its last end.</param>
public sealed record StageStatistics(
    string JobId, string Stage, IReadOnlyList<string> DependsOn, string Status, string OperationKind, ItemCounts Counts, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt)
{
    /// <summary>From its first start to its last end.</summary>
    public TimeSpan? Duration => StartedAt is { } started && EndedAt is { } ended && ended >= started ? ended - started : null;

    /// <summary>Items that ran to an end (succeeded or failed) per second of <see cref="Duration"/>.</summary>
    public double? ItemsPerSecond => Duration is { TotalSeconds: > 0 } d ? (Counts.Succeeded + Counts.Failed) / d.TotalSeconds : null;

    /// <summary>The job's stages in run order (from kept counts: a lookup whatever they hold), or its one unnamed stage (a running one timed until now).</summary>
    public static async Task<IReadOnlyList<StageStatistics>> ReadAsync(IJobStore store, JobRecord job, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Stages is null)
        {
            var whole = new StageSummary(job.Plan[0], job.Counts, job.StartedAt, job.EndedAt ?? (job.StartedAt is null ? null : (time ?? TimeProvider.System).GetUtcNow()));
            return [new StageStatistics(job.Id, string.Empty, [], whole.Status, job.OperationKind, job.Counts, whole.StartedAt, whole.EndedAt)];
        }

        return [.. (await StageSummary.ReadAsync(store, job, cancellationToken).ConfigureAwait(false)).Select(s =>
            new StageStatistics(job.Id, s.Stage.Name, s.Stage.DependsOn, s.Status, s.Stage.OperationKind, s.Counts, s.StartedAt, s.EndedAt))];
    }
}
