#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.BatchItemRetry].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// An attempt of an item that failed and was tried again (Get-BatchItem -History): why it failed, the HTTP
/// status it got, and how long the job waited before the next attempt (a Retry-After as honoured, or the backoff).
/// </summary>
public sealed class BatchItemRetry
{
    /// <summary>Id of the job.</summary>
    public string JobId { get; init; } = string.Empty;

    /// <summary>0-based index of the item.</summary>
    public long Index { get; init; }

    /// <summary>The item's key, if it has one.</summary>
    public string? Key { get; init; }

    /// <summary>The job run it happened in (1 for the first).</summary>
    public int Run { get; init; }

    /// <summary>The attempt that failed, starting at 1.</summary>
    public int Attempt { get; init; }

    /// <summary>The failure's error type: HttpStatus, RetryAfter, or the exception's full type name.</summary>
    public string ErrorType { get; init; } = string.Empty;

    /// <summary>The HTTP status of the answer, when the attempt got one (429, 503 …).</summary>
    public int? StatusCode { get; init; }

    /// <summary>The failure's message.</summary>
    public string Message { get; init; } = string.Empty;

    /// <summary>How long the job waited before the next attempt.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>When the attempt failed.</summary>
    public DateTimeOffset At { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Index} attempt {Attempt}: {(StatusCode is { } code ? $"{code} " : string.Empty)}{ErrorType}, retried after {Delay.TotalMilliseconds:0} ms";
}
