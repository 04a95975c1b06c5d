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

    /// <summary>The item's stage (-Stage), or null for a job without stages.</summary>
    public string? Stage { get; init; }

    /// <summary>Whether this invocation undoes the item (-UndoScriptBlock); its idempotency key then ends with ":undo".</summary>
    public bool IsUndo { get; init; }

    /// <summary>In an undo: what the item's script block returned (also in $BatchOutput).</summary>
    public object? Output { get; init; }

    /// <summary>
    /// The trace of this attempt's span (32 hex digits), when BatchOps is traced (an OpenTelemetry exporter or
    /// another listener is on); null otherwise.
    /// </summary>
    public string? TraceId { get; init; }

    /// <summary>This attempt's span id (16 hex digits) when traced; null otherwise.</summary>
    public string? SpanId { get; init; }

    /// <summary>
    /// This attempt's span as a W3C traceparent header value (00-TRACEID-SPANID-FLAGS), when traced: pass it
    /// on (Invoke-RestMethod -Headers @{ traceparent = $BatchContext.TraceParent }) so the target's spans join
    /// the item's trace. Null when not traced.
    /// </summary>
    public string? TraceParent { get; init; }
}
