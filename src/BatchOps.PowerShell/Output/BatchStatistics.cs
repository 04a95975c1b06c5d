#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchStatistics].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>Totals over every job in a store (Get-BatchStatistics).</summary>
public sealed class BatchStatistics
{
    /// <summary>Number of jobs.</summary>
    public long Jobs { get; init; }

    /// <summary>Jobs per status (Interrupted: Running jobs whose process is gone).</summary>
    public IReadOnlyDictionary<JobStatus, long> ByStatus { get; init; } = new Dictionary<JobStatus, long>();

    /// <summary>Jobs per tag.</summary>
    public IReadOnlyDictionary<string, long> ByTag { get; init; } = new Dictionary<string, long>();

    /// <summary>Items over all jobs.</summary>
    public long Items { get; init; }

    /// <summary>Items over all jobs that succeeded.</summary>
    public long SucceededItems { get; init; }

    /// <summary>Items over all jobs that failed.</summary>
    public long FailedItems { get; init; }

    /// <summary>Items over all jobs not yet run (pending, skipped, cancelled or in flight).</summary>
    public long UnfinishedItems { get; init; }

    /// <summary>Jobs running now under a live lease.</summary>
    public BatchJob[] Active { get; init; } = [];

    /// <summary>The ten most recently created jobs.</summary>
    public BatchJob[] Recent { get; init; } = [];

    /// <summary>Average length of the latest run of finished jobs.</summary>
    public TimeSpan? AverageDuration { get; init; }

    /// <summary>Items that ran per second of run time, over finished jobs.</summary>
    public double? ItemsPerSecond { get; init; }

    /// <summary>The store's size on disk in bytes (the SQLite file and its WAL, or the PostgreSQL tables).</summary>
    public long? StoreBytes { get; init; }

    /// <summary>The store's size per item it holds.</summary>
    public double? BytesPerItem { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Jobs} job(s), {Items} item(s)";
}
