using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>Told to the observer before the engine waits to retry an item or a chunk.</summary>
/// <param name="Index">Index of the item, or of the first item of the chunk segment being retried.</param>
/// <param name="Count">1 for an item; the segment's size for a bulk call.</param>
/// <param name="Attempt">The attempt that just failed, starting at 1.</param>
/// <param name="Delay">How long the engine waits before the next attempt.</param>
/// <param name="Error">Why the attempt failed.</param>
/// <param name="StatusCode">The HTTP status the attempt was answered with, when it was an HTTP answer.</param>
public sealed record RetryNotice(long Index, int Count, int Attempt, TimeSpan Delay, ItemError Error, int? StatusCode = null)
{
    /// <summary>When the attempt failed (the run's clock).</summary>
    public DateTimeOffset At { get; init; }
}
