using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>Totals over every job in a store.</summary>
public sealed record StoreStatistics
{
    /// <summary>Number of jobs.</summary>
    public long Jobs { get; init; }

    /// <summary>Jobs per status (Interrupted derived from dead owners).</summary>
    public IReadOnlyDictionary<JobStatus, long> ByStatus { get; init; } = new Dictionary<JobStatus, long>();

    /// <summary>Jobs per tag.</summary>
    public IReadOnlyDictionary<string, long> ByTag { get; init; } = new Dictionary<string, long>();

    /// <summary>Items over all jobs, by status.</summary>
    public ItemCounts Items { get; init; } = new();

    /// <summary>Jobs running now under a live lease.</summary>
    public IReadOnlyList<JobRecord> Active { get; init; } = [];

    /// <summary>The ten most recently created jobs.</summary>
    public IReadOnlyList<JobRecord> Recent { get; init; } = [];

    /// <summary>Average length of the latest run of finished jobs.</summary>
    public TimeSpan? AverageDuration { get; init; }

    /// <summary>Items that ran (succeeded or failed) per second of run time, over finished jobs.</summary>
    public double? ItemsPerSecond { get; init; }

    /// <summary>The store's size on disk in bytes (SQLite: the file and its WAL; PostgreSQL: the batchops tables); null when the store has none (in memory).</summary>
    public long? StoreBytes { get; init; }

    /// <summary>The store's size per item it holds; null without a size or items.</summary>
    public double? BytesPerItem => StoreBytes is { } bytes && Items.Total > 0 ? (double)bytes / Items.Total : null;
}
