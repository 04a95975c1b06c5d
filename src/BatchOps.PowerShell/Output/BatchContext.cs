#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchContext].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// $BatchContext inside a script block: which job and item this invocation is, and its idempotency key, the
/// same on every attempt, resume and retry of the item (pass it to an API that honours one, or use it to
/// look up whether the item was already applied).
/// </summary>
public sealed class BatchContext
{
    /// <summary>The job's id.</summary>
    public required string JobId { get; init; }

    /// <summary>The item's index (a chunk script block: its first item's).</summary>
    public long Index { get; init; }

    /// <summary>The item's key (-KeyProperty), if it has one.</summary>
    public string? Key { get; init; }

    /// <summary>The item's idempotency key: JOBID:INDEX, or JOBID:key:KEY when it has a key (a chunk script block: its first item's).</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>Every item's idempotency key, in order (one for a per-item script block).</summary>
    public required string[] IdempotencyKeys { get; init; }

    /// <summary>Which attempt this is in this run: 1, then 2 on the first retry, and so on.</summary>
    public int Attempt { get; init; }
}
