namespace BatchOps.Engine.Execution;

/// <summary>
/// Thrown by an operation that refuses a call because it would pass a limit the job set (for example a
/// maximum number of affected rows). The call's items end Skipped with this message, nothing is retried or
/// bisected, and the run stops as an error policy would: items not started are Skipped too, so raising
/// the limit and resuming runs them.
/// </summary>
public sealed class BatchLimitException : BatchOperationException
{
    /// <summary>Creates the exception; the message names the limit and how to raise it.</summary>
    public BatchLimitException(string message)
        : base(message, isRetryable: false)
    {
    }

    /// <summary>Creates the exception without a message.</summary>
    public BatchLimitException()
        : this("A limit of the job was reached.")
    {
    }

    /// <summary>Creates the exception wrapping its cause.</summary>
    public BatchLimitException(string message, Exception? innerException)
        : base(message, isRetryable: false, innerException: innerException)
    {
    }
}
