#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchItemHistory].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>An earlier outcome of an item, kept when the item was run again (Get-BatchItem -History).</summary>
public sealed class BatchItemHistory
{
    /// <summary>Id of the job.</summary>
    public string JobId { get; init; } = string.Empty;

    /// <summary>0-based index of the item.</summary>
    public long Index { get; init; }

    /// <summary>The run (1 for the first) that produced this outcome.</summary>
    public int Run { get; init; }

    /// <summary>The status the item had after that run.</summary>
    public ItemStatus Status { get; init; }

    /// <summary>Attempts made in that run.</summary>
    public int Attempts { get; init; }

    /// <summary>The error of that run, if it failed.</summary>
    public BatchItemError? Error { get; init; }

    /// <summary>When that run's last attempt ended.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Index} run {Run} {Status}";
}
