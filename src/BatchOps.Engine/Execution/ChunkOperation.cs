using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>
/// Runs one attempt for a whole chunk (a bulk call). Return one output per item, in the same order, or
/// null when the call has no per-item output. Throw to fail the call: the engine then splits the chunk in
/// halves and calls each half again until the bad items are isolated.
/// </summary>
public delegate ValueTask<IReadOnlyList<TOut>?> ChunkOperation<TIn, TOut>(IReadOnlyList<BatchItem<TIn>> items, CancellationToken cancellationToken);
