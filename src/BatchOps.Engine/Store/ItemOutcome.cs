using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>What a checkpoint writes for one item.</summary>
public sealed record ItemOutcome(
    long Index,
    ItemStatus Status,
    int Attempts,
    string? Output,
    ItemError? Error,
    DateTimeOffset? StartedAt,
    DateTimeOffset EndedAt,
    TimeSpan Duration)
{
    /// <summary>The attempts of this run that failed and were tried again, in order (none for most items).</summary>
    public IReadOnlyList<ItemRetry>? Retries { get; init; }
}
