#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchStageStatistics].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>One stage of a job with its counts and rate (Get-BatchStatistics -Id); a job without stages has one, named "".</summary>
public sealed class BatchStageStatistics
{
    /// <summary>The job.</summary>
    public string JobId { get; init; } = string.Empty;

    /// <summary>The stage's name; empty for a job without stages.</summary>
    public string Stage { get; init; } = string.Empty;

    /// <summary>The stages it runs after.</summary>
    public string[] DependsOn { get; init; } = [];

    /// <summary>Pending, Unfinished, Completed, CompletedWithErrors, Skipped, RolledBack or RollbackFailed.</summary>
    public string Status { get; init; } = string.Empty;

    /// <summary>What its items run (scriptblock, exec, http, sql).</summary>
    public string OperationKind { get; init; } = string.Empty;

    /// <summary>Its items.</summary>
    public long Items { get; init; }

    public long Succeeded { get; init; }

    public long Failed { get; init; }

    /// <summary>Skipped (a dependency did not complete, or a stop) and not yet run again.</summary>
    public long Skipped { get; init; }

    /// <summary>Pending, running or cancelled: what a resume would run (besides the skipped).</summary>
    public long Pending { get; init; }

    /// <summary>Compensated or failed to compensate by an undo.</summary>
    public long Undone { get; init; }

    /// <summary>When its first item started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When its last item that ran ended.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>From its first start to its last end.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Items that ran to an end (succeeded or failed) per second of <see cref="Duration"/>.</summary>
    public double? ItemsPerSecond { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{(Stage.Length == 0 ? JobId : Stage)}: {Status}, {Succeeded}/{Items} succeeded";
}
