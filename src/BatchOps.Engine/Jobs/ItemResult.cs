namespace BatchOps.Engine.Jobs;

/// <summary>The outcome of one item, reported once, as soon as the item finishes.</summary>
/// <typeparam name="TIn">Input type.</typeparam>
/// <typeparam name="TOut">Output type.</typeparam>
public sealed class ItemResult<TIn, TOut>
{
    /// <summary>Stable 0-based index of the item in its job.</summary>
    public required long Index { get; init; }

    /// <summary>The item's optional key.</summary>
    public string? Key { get; init; }

    /// <summary>The input the operation received.</summary>
    public required TIn Input { get; init; }

    /// <summary>What the operation returned; default when it did not succeed.</summary>
    public TOut? Output { get; init; }

    /// <summary>Final status: Succeeded, Failed, Skipped or Cancelled.</summary>
    public required ItemStatus Status { get; init; }

    /// <summary>How many times the operation was invoked with this item (0 when it never started).</summary>
    public int Attempts { get; init; }

    /// <summary>Time from the first attempt's start to the end of the last, retry delays included.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>When the first attempt started; null when the item never started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the item reached its final status.</summary>
    public DateTimeOffset EndedAt { get; init; }

    /// <summary>The last attempt's error, when the status is Failed (and for Cancelled items whose attempt was cut short).</summary>
    public ItemError? Error { get; init; }
}
