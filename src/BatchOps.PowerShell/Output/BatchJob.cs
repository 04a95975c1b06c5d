#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchJob].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// A stored job as Get-BatchJob, New-BatchJob and Stop-BatchJob show it: a snapshot, refreshed by calling
/// Get-BatchJob again. Pipes into every cmdlet that takes -Id.
/// </summary>
public sealed class BatchJob
{
    /// <summary>Unique id.</summary>
    public string Id { get; init; } = string.Empty;

    /// <summary>Name (several jobs may share one; -Id NAME means the newest).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Description.</summary>
    public string? Description { get; init; }

    /// <summary>Tags.</summary>
    public string[] Tags { get; init; } = [];

    /// <summary>Status (Interrupted when its owner process is gone).</summary>
    public JobStatus Status { get; init; }

    /// <summary>All items.</summary>
    public long Total { get; init; }

    /// <summary>Succeeded items.</summary>
    public long Succeeded { get; init; }

    /// <summary>Failed items.</summary>
    public long Failed { get; init; }

    /// <summary>Skipped items (the job stopped before they ran).</summary>
    public long Skipped { get; init; }

    /// <summary>Cancelled items.</summary>
    public long Cancelled { get; init; }

    /// <summary>Items not yet run (running ones included).</summary>
    public long Pending { get; init; }

    /// <summary>Items undone by a rollback or Undo-BatchJob.</summary>
    public long Compensated { get; init; }

    /// <summary>Items whose undo failed (Undo-BatchJob retries them).</summary>
    public long CompensationFailed { get; init; }

    /// <summary>Whether the job is being (or was) rolled back: resuming it goes on undoing, never runs items.</summary>
    public bool RollingBack { get; init; }

    /// <summary>
    /// Whether the items were piped in as they arrived and the input had not ended when the job last stopped
    /// (Ctrl+C, a crash, an error upstream): the job holds only the items recorded until then (see Message).
    /// </summary>
    public bool InputIncomplete { get; init; }

    /// <summary>The job's stages in the order they run (-Stage); empty for a job without stages.</summary>
    public string[] Stages { get; init; } = [];

    /// <summary>Percent of the items that have ended.</summary>
    public double PercentComplete => Total == 0 ? 100 : Math.Round(100.0 * (Total - Pending) / Total, 1);

    /// <summary>Creation time.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Start of the latest run.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>End of the latest run.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Length of the latest run.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Why the latest run stopped or failed.</summary>
    public string? Message { get; init; }

    /// <summary>Runs started so far.</summary>
    public int RunCount { get; init; }

    /// <summary>"process@host" of the running owner, if any.</summary>
    public string? Owner { get; init; }

    /// <summary>The job's stored settings.</summary>
    public BatchJobSettings Settings { get; init; } = new();

    /// <summary>Operation kind: scriptblock for jobs made in PowerShell, exec or http for batchops specs.</summary>
    public string OperationKind { get; init; } = string.Empty;

    /// <summary>The store the job lives in.</summary>
    public string? Store { get; init; }

    /// <summary>
    /// Who the job tells when it ends (-Notify, a spec's "notify"), each target with its notice of the job's
    /// last end: sent, FAILED with the error, being sent, due, or not for this status. Empty without targets.
    /// </summary>
    public string[] Notices { get; set; } = [];

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Id}) {Status}";
}
