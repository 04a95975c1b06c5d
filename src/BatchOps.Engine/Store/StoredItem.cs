using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>One item as the store keeps it: serialized input and its latest outcome.</summary>
public sealed record StoredItem
{
    /// <summary>Stable 0-based index in the job.</summary>
    public required long Index { get; init; }

    /// <summary>Optional key.</summary>
    public string? Key { get; init; }

    /// <summary>The input, serialized in the job's <see cref="JobRecord.InputFormat"/>.</summary>
    public required string Input { get; init; }

    /// <summary>Latest status.</summary>
    public ItemStatus Status { get; init; }

    /// <summary>Attempts of the latest run of this item.</summary>
    public int Attempts { get; init; }

    /// <summary>The output, serialized in the job's <see cref="JobRecord.OutputFormat"/>.</summary>
    public string? Output { get; init; }

    /// <summary>The latest error.</summary>
    public ItemError? Error { get; init; }

    /// <summary>When its latest run started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it reached its latest status.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Duration of its latest run.</summary>
    public TimeSpan? Duration { get; init; }
}
