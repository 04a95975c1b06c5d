using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>
/// Thrown by an operation to say exactly how the engine should treat a failure: whether it is worth
/// retrying, and how long the remote side asked us to wait (an HTTP Retry-After header).
/// </summary>
public class BatchOperationException : Exception, IErrorDetail, IFailureHints
{
    /// <summary>Creates a retryable error without a detail.</summary>
    public BatchOperationException()
        : this("The operation failed.")
    {
    }

    /// <summary>Creates a retryable error.</summary>
    public BatchOperationException(string message)
        : this(message, isRetryable: true)
    {
    }

    /// <summary>Creates a retryable error wrapping its cause.</summary>
    public BatchOperationException(string message, Exception? innerException)
        : this(message, isRetryable: true, innerException: innerException)
    {
    }

    /// <summary>Creates an error with an explicit retry classification.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="isRetryable">Whether another attempt may succeed.</param>
    /// <param name="retryAfter">How long to wait before the next attempt, when the remote side said so.</param>
    /// <param name="detail">Extra text to keep with the error (stderr tail, response body).</param>
    /// <param name="innerException">The underlying cause.</param>
    public BatchOperationException(string message, bool isRetryable, TimeSpan? retryAfter = null, string? detail = null, Exception? innerException = null)
        : base(message, innerException)
    {
        IsRetryable = isRetryable;
        RetryAfter = retryAfter;
        Detail = detail;
    }

    /// <summary>Whether another attempt may succeed.</summary>
    public bool IsRetryable { get; }

    /// <summary>
    /// What kind of failure this is, recorded as the item's error type (for example <c>InvalidHeaderValue</c>)
    /// so that people and scripts can tell failures apart without parsing messages. Null (the default)
    /// records the exception's type name.
    /// </summary>
    public string? ErrorType { get; init; }

    /// <summary>The HTTP status of the answer this error reports, if it reports one (kept in the item's retry history).</summary>
    public int? StatusCode { get; init; }

    /// <summary>Wait requested by the remote side before retrying; overrides the computed backoff.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Extra text kept with the error.</summary>
    public string? Detail { get; }
}
