namespace BatchOps.Engine.Progress;

/// <summary>Where a run stands at one moment. Pushed a few times a second, never per item.</summary>
public sealed record ProgressSnapshot
{
    /// <summary>Items in the run when known (from the caller, a collection, or once the input is exhausted).</summary>
    public long? Total { get; init; }

    /// <summary>Items that succeeded so far.</summary>
    public long Succeeded { get; init; }

    /// <summary>Items that failed so far.</summary>
    public long Failed { get; init; }

    /// <summary>Items skipped because the run stopped.</summary>
    public long Skipped { get; init; }

    /// <summary>Items cancelled by the caller.</summary>
    public long Cancelled { get; init; }

    /// <summary>Items running now.</summary>
    public long Running { get; init; }

    /// <summary>Items that reached a final status.</summary>
    public long Completed => Succeeded + Failed + Skipped + Cancelled;

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Percent of <see cref="Total"/> completed (0 to 100); null while the total is unknown.</summary>
    public double? Percent => Total is > 0 ? Math.Min(100.0, 100.0 * Completed / Total.Value) : Total == 0 ? 100.0 : null;

    /// <summary>Items that ran (succeeded or failed) per second since the start.</summary>
    public double ItemsPerSecond => Elapsed > TimeSpan.Zero ? (Succeeded + Failed) / Elapsed.TotalSeconds : 0;

    /// <summary>Estimated time left at the current rate; null while the total or the rate is unknown.</summary>
    public TimeSpan? EstimatedRemaining =>
        Total is { } total && ItemsPerSecond > 0 && total >= Completed
            ? TimeSpan.FromSeconds(Math.Min((total - Completed) / ItemsPerSecond, TimeSpan.MaxValue.TotalSeconds - 1))
            : null;

    /// <summary>True on the last snapshot of a run.</summary>
    public bool IsFinal { get; init; }
}
