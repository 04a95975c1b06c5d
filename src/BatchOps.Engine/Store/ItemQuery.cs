using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>Which items of a job to read; items always come in index order.</summary>
public sealed record ItemQuery
{
    /// <summary>Statuses to keep; null keeps all.</summary>
    public IReadOnlyCollection<ItemStatus>? Statuses { get; init; }

    /// <summary>Indexes to keep; null keeps all.</summary>
    public IReadOnlyCollection<long>? Indexes { get; init; }

    /// <summary>The lowest index to keep (a stage's first item); null keeps from the start.</summary>
    public long? FirstIndex { get; init; }

    /// <summary>The highest index to keep (a stage's last item); null keeps to the end.</summary>
    public long? LastIndex { get; init; }

    /// <summary>
    /// Read only index, key and input (status, outcome and error are left at their defaults): what a run
    /// needs, at a fraction of the reading cost.
    /// </summary>
    public bool InputsOnly { get; init; }

    /// <summary>Items a resume runs: neither Succeeded nor Failed.</summary>
    public static ItemQuery Unfinished { get; } = new() { Statuses = [ItemStatus.Pending, ItemStatus.Running, ItemStatus.Skipped, ItemStatus.Cancelled] };

    /// <summary>Whether an item's index is within <see cref="FirstIndex"/> and <see cref="LastIndex"/>.</summary>
    public bool InRange(long index) => index >= (FirstIndex ?? 0) && index <= (LastIndex ?? long.MaxValue);

    /// <summary>This query restricted to one stage's items.</summary>
    public ItemQuery Within(JobStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        return this with { FirstIndex = stage.FirstIndex, LastIndex = stage.LastIndex };
    }

    /// <summary>Every item.</summary>
    public static ItemQuery All { get; } = new();
}
