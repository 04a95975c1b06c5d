using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

#pragma warning disable IDE0130 // The PowerShell-facing types live in the short namespace users type: [BatchOps.BatchItemResult].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// One item's outcome as PowerShell emits it (Invoke-BatchJob, Get-BatchItem): pipe it on, filter it by
/// Status, or read the Error. Failed items are also written as non-terminating errors with this object as
/// the TargetObject.
/// </summary>
public sealed class BatchItemResult
{
    /// <summary>Job id.</summary>
    public required string JobId { get; init; }

    /// <summary>0-based index in the job.</summary>
    public required long Index { get; init; }

    /// <summary>Optional key.</summary>
    public string? Key { get; init; }

    /// <summary>The input (deserialized when read back from the store).</summary>
    public object? Input { get; init; }

    /// <summary>What the script block output (one object, an array for several, or null).</summary>
    public object? Output { get; init; }

    /// <summary>Final status.</summary>
    public ItemStatus Status { get; init; }

    /// <summary>Attempts made.</summary>
    public int Attempts { get; init; }

    /// <summary>Time from first attempt to the end, retry delays included.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Start of the first attempt.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>End.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The error of a failed item.</summary>
    public ItemError? Error { get; init; }

    /// <summary>The error's message, for tables.</summary>
    public string? ErrorMessage => Error?.Message;

    /// <summary>Whether the item succeeded.</summary>
    public bool Succeeded => Status == ItemStatus.Succeeded;

    /// <summary>Builds the view of a result the engine just reported.</summary>
    public static BatchItemResult From<TIn, TOut>(string jobId, ItemResult<TIn, TOut> result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new BatchItemResult
        {
            JobId = jobId,
            Index = result.Index,
            Key = result.Key,
            Input = result.Input,
            Output = result.Output,
            Status = result.Status,
            Attempts = result.Attempts,
            Duration = result.Duration,
            StartedAt = result.StartedAt,
            EndedAt = result.EndedAt,
            Error = result.Error,
        };
    }

    /// <summary>Builds the view of a stored item, deserializing input and output with the given codec.</summary>
    public static BatchItemResult From<T>(string jobId, StoredItem item, IPayloadCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(codec);
        return new BatchItemResult
        {
            JobId = jobId,
            Index = item.Index,
            Key = item.Key,
            Input = codec.Deserialize(item.Input),
            Output = item.Output is null ? null : codec.Deserialize(item.Output),
            Status = item.Status,
            Attempts = item.Attempts,
            Duration = item.Duration ?? TimeSpan.Zero,
            StartedAt = item.StartedAt,
            EndedAt = item.EndedAt,
            Error = item.Error,
        };
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Index} {Status}";
}
