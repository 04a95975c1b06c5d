namespace BatchOps.Engine.Execution;

/// <summary>A bulk operation broke its contract (one output per item); splitting the chunk cannot fix that.</summary>
internal sealed class OutputCountMismatchException(int outputs, int items)
    : BatchOperationException(
        $"The chunk operation returned {outputs} outputs for {items} items; return one output per item, in order, or null.",
        isRetryable: false);
