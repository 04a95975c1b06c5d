using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>
/// Runs one attempt for one item. Throw to fail the attempt; honour <paramref name="cancellationToken"/>,
/// which fires on the per-attempt timeout and on a forced stop.
/// </summary>
public delegate ValueTask<TOut> ItemOperation<TIn, TOut>(BatchItem<TIn> item, CancellationToken cancellationToken);
