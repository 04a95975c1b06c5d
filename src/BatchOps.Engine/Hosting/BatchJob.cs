using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

#pragma warning disable IDE0130 // The PowerShell-facing types live in the short namespace users type: [BatchOps.BatchJob].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>A job as PowerShell shows it (Get-BatchJob, New-BatchJob); a snapshot, refreshed by calling Get-BatchJob again.</summary>
public sealed class BatchJob
{
    /// <summary>Unique id.</summary>
    public required string Id { get; init; }

    /// <summary>Name.</summary>
    public required string Name { get; init; }

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

    /// <summary>Skipped items.</summary>
    public long Skipped { get; init; }

    /// <summary>Cancelled items.</summary>
    public long Cancelled { get; init; }

    /// <summary>Items not yet run.</summary>
    public long Pending { get; init; }

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

    /// <summary>Effective settings.</summary>
    public JobSettings Settings { get; init; } = new();

    /// <summary>Operation kind (scriptblock, exec, http).</summary>
    public string OperationKind { get; init; } = string.Empty;

    /// <summary>The store the job lives in.</summary>
    public string? Store { get; init; }

    /// <summary>Builds the PowerShell view of a stored job.</summary>
    public static BatchJob From(JobRecord job, string? store = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        var c = job.Counts;
        return new BatchJob
        {
            Id = job.Id,
            Name = job.Name,
            Description = job.Description,
            Tags = [.. job.Tags],
            Status = job.Status,
            Total = c.Total,
            Succeeded = c.Succeeded,
            Failed = c.Failed,
            Skipped = c.Skipped,
            Cancelled = c.Cancelled,
            Pending = c.Pending + c.Running,
            CreatedAt = job.CreatedAt,
            StartedAt = job.StartedAt,
            EndedAt = job.EndedAt,
            Duration = job.Duration,
            Message = job.Message,
            RunCount = job.RunCount,
            Owner = job.Lease is { } lease ? $"{lease.ProcessId}@{lease.Host}" : null,
            Settings = job.Settings,
            OperationKind = job.OperationKind,
            Store = store,
        };
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Id}) {Status}";
}
