#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchItemResult].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// One item's outcome (Invoke-BatchJob, Restart-BatchFailed, Get-BatchItem): pipe it on, filter it by
/// Status, read the Error, or pipe failed ones into Restart-BatchFailed. Failed items are also written as
/// non-terminating errors with this object as the TargetObject.
/// </summary>
public sealed class BatchItemResult
{
    /// <summary>Id of the job the item belongs to.</summary>
    public string JobId { get; init; } = string.Empty;

    /// <summary>0-based position of the item in the job's input.</summary>
    public long Index { get; init; }

    /// <summary>The item's stage (-Stage), or null for a job without stages.</summary>
    public string? Stage { get; internal set; }

    /// <summary>The item's key (-KeyProperty), if any.</summary>
    public string? Key { get; init; }

    /// <summary>The input (deserialized when read back from the store in a later session).</summary>
    public object? Input { get; init; }

    /// <summary>What the script block output: one object, an array for several, or null.</summary>
    public object? Output { get; init; }

    /// <summary>Final status.</summary>
    public ItemStatus Status { get; init; }

    /// <summary>Attempts made (1 plus retries).</summary>
    public int Attempts { get; init; }

    /// <summary>Time from the first attempt to the end, retry delays included.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Start of the first attempt.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>End of the last attempt.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The error of a failed item; null otherwise.</summary>
    public BatchItemError? Error { get; init; }

    /// <summary>The error's message, for tables and Where-Object.</summary>
    public string? ErrorMessage => Error?.Message;

    /// <summary>Whether the item succeeded.</summary>
    public bool Succeeded => Status == ItemStatus.Succeeded;

    /// <inheritdoc/>
    public override string ToString() => Key is null ? $"{Index} {Status}" : $"{Index} ({Key}) {Status}";
}
