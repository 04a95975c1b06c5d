using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>Filters for listing jobs; every filter is optional and they combine with AND.</summary>
public sealed record JobQuery
{
    /// <summary>Exact job id.</summary>
    public string? Id { get; init; }

    /// <summary>Name pattern with * and ? wildcards, case-insensitive.</summary>
    public string? Name { get; init; }

    /// <summary>Statuses to keep (Interrupted is derived, and matches Running jobs whose owner is gone).</summary>
    public IReadOnlyCollection<JobStatus>? Statuses { get; init; }

    /// <summary>Keep jobs carrying this tag.</summary>
    public string? Tag { get; init; }

    /// <summary>Keep jobs created at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Keep only the newest N (by creation time).</summary>
    public int? Newest { get; init; }
}
