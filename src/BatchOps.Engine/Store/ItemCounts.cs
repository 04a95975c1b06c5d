using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>How many of a job's items stand in each status, counted by the store when read.</summary>
public sealed record ItemCounts
{
    /// <summary>Items recorded but not run (or reset for a retry).</summary>
    public long Pending { get; init; }

    /// <summary>Items handed to a worker and not yet checkpointed (in flight, or lost in a crash).</summary>
    public long Running { get; init; }

    /// <summary>Items that succeeded.</summary>
    public long Succeeded { get; init; }

    /// <summary>Items that failed.</summary>
    public long Failed { get; init; }

    /// <summary>Items skipped because a run stopped.</summary>
    public long Skipped { get; init; }

    /// <summary>Items cancelled by a caller.</summary>
    public long Cancelled { get; init; }

    /// <summary>Items that succeeded and were then undone.</summary>
    public long Compensated { get; init; }

    /// <summary>Items that succeeded and whose undo then failed.</summary>
    public long CompensationFailed { get; init; }

    /// <summary>All recorded items.</summary>
    public long Total => Pending + Running + Succeeded + Failed + Skipped + Cancelled + Compensated + CompensationFailed;

    /// <summary>Items a resume would run: everything that has not ended (neither Succeeded, Failed nor compensated).</summary>
    public long Unfinished => Pending + Running + Skipped + Cancelled;

    /// <summary>Adds one status to a count.</summary>
    public ItemCounts With(ItemStatus status, long count) => status switch
    {
        ItemStatus.Pending => this with { Pending = Pending + count },
        ItemStatus.Running => this with { Running = Running + count },
        ItemStatus.Succeeded => this with { Succeeded = Succeeded + count },
        ItemStatus.Failed => this with { Failed = Failed + count },
        ItemStatus.Skipped => this with { Skipped = Skipped + count },
        ItemStatus.Cancelled => this with { Cancelled = Cancelled + count },
        ItemStatus.Compensated => this with { Compensated = Compensated + count },
        ItemStatus.CompensationFailed => this with { CompensationFailed = CompensationFailed + count },
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown item status."),
    };

    /// <summary>How many items are in <paramref name="status"/>.</summary>
    public long Of(ItemStatus status) => status switch
    {
        ItemStatus.Pending => Pending,
        ItemStatus.Running => Running,
        ItemStatus.Succeeded => Succeeded,
        ItemStatus.Failed => Failed,
        ItemStatus.Skipped => Skipped,
        ItemStatus.Cancelled => Cancelled,
        ItemStatus.Compensated => Compensated,
        ItemStatus.CompensationFailed => CompensationFailed,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown item status."),
    };

    /// <summary>
    /// The status a job ends with after a run that was not stopped: judged over all its items, so a
    /// resumed or retried job reports the whole job, not just the last run.
    /// </summary>
    public JobStatus FinalStatus() => this switch
    {
        { Unfinished: > 0 } => JobStatus.Failed,
        { Failed: 0 } => JobStatus.Completed,
        { Succeeded: 0 } => JobStatus.Failed,
        _ => JobStatus.CompletedWithErrors,
    };
}
