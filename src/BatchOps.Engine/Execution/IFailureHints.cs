namespace BatchOps.Engine.Execution;

/// <summary>
/// What an operation's error says about itself beyond its message: whether another attempt may succeed, how
/// long the other side asked to wait first, and a kind to record as the item's error type. The engine's retry
/// classifier, its backoff and its item errors read these from any exception that carries them
/// (<see cref="BatchOperationException"/>, the PowerShell layer's script errors).
/// </summary>
public interface IFailureHints
{
    /// <summary>Whether another attempt may succeed.</summary>
    bool IsRetryable { get; }

    /// <summary>How long to wait before the next attempt, when the other side said so (Retry-After); null otherwise.</summary>
    TimeSpan? RetryAfter { get; }

    /// <summary>The kind of failure to record as the item's error type (for example HttpStatus); null records the exception's type.</summary>
    string? ErrorType { get; }

    /// <summary>The HTTP status the other side answered, when the failure was an HTTP answer; null otherwise.</summary>
    int? StatusCode { get; }
}
