using System.Collections;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>
/// Runs a stream of items through an operation in chunks, in parallel up to a throttle, with retries,
/// timeouts, a rate limit and an error policy, reporting every outcome to an observer as it happens.
/// </summary>
/// <example>
/// <code>
/// var summary = await BatchExecutor.RunAsync(
///     items: BatchInput.From(hosts),
///     operation: BatchOperation&lt;string, int&gt;.PerItem((item, ct) =&gt; PingAsync(item.Value, ct)),
///     options: new BatchOptions { ThrottleLimit = 16, RetryCount = 3 });
/// </code>
/// </example>
public static class BatchExecutor
{
    /// <summary>
    /// Runs the items and returns the run's summary. Never throws for an item's failure, a stop request or
    /// a fault of the input or the observer: those end in the summary. Throws
    /// <see cref="ArgumentOutOfRangeException"/> for an invalid setting before any item is read.
    /// </summary>
    /// <param name="items">The input, read lazily: at most about (ThrottleLimit + 1) × ChunkSize items are held at once.</param>
    /// <param name="operation">The per-item or per-chunk operation.</param>
    /// <param name="options">Settings; validated and copied before the run starts. Null means all defaults.</param>
    /// <param name="observer">Receives outcomes, checkpoints, retries and progress.</param>
    /// <param name="stop">Lets the caller stop the run gracefully or by force.</param>
    /// <param name="cancellationToken">Forced stop: running attempts are cancelled and the run ends Cancelled.</param>
    public static Task<JobSummary> RunAsync<TIn, TOut>(
        IAsyncEnumerable<BatchItem<TIn>> items,
        BatchOperation<TIn, TOut> operation,
        BatchOptions? options = null,
        BatchObserver<TIn, TOut>? observer = null,
        BatchStopSource? stop = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(operation);
        var settings = (options ?? new BatchOptions()).Clone();
        settings.Validate();
        var run = new BatchRun<TIn, TOut>(items, operation, settings, observer, stop, cancellationToken);
        return run.RunAsync();
    }

    /// <summary>
    /// Runs plain values, numbered 0, 1, 2… in input order; the total for progress is taken from the
    /// sequence when it is a collection.
    /// </summary>
    public static Task<JobSummary> RunAsync<TIn, TOut>(
        IEnumerable<TIn> values,
        BatchOperation<TIn, TOut> operation,
        BatchOptions? options = null,
        BatchObserver<TIn, TOut>? observer = null,
        BatchStopSource? stop = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var settings = (options ?? new BatchOptions()).Clone();
        settings.TotalCount ??= values switch
        {
            IReadOnlyCollection<TIn> collection => collection.Count,
            ICollection collection => collection.Count,
            _ => null,
        };
        return RunAsync(BatchInput.From(values), operation, settings, observer, stop, cancellationToken);
    }
}
