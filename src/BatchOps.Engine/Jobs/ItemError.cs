using System.Text.Json.Serialization;
using BatchOps.Engine.Execution;

namespace BatchOps.Engine.Jobs;

/// <summary>Why an item failed, in a form that survives being stored and exported.</summary>
public sealed class ItemError
{
    /// <summary>The error type of an item that did not match the job's item schema: recorded Failed at creation, never run or retried.</summary>
    public const string ValidationErrorType = "ValidationError";

    /// <summary>Creates an error record from its stored parts.</summary>
    [JsonConstructor]
    public ItemError(string type, string message, string? detail, bool isRetryable)
    {
        Type = type;
        Message = message;
        Detail = detail;
        IsRetryable = isRetryable;
    }

    /// <summary>
    /// Full name of the exception type, for example <c>System.TimeoutException</c>, or the kind an operation
    /// named (<see cref="BatchOperationException.ErrorType"/>, for example <c>InvalidHeaderValue</c>).
    /// </summary>
    public string Type { get; }

    /// <summary>The exception's message.</summary>
    public string Message { get; }

    /// <summary>Extra text: the stack trace, or the tail of a process's stderr.</summary>
    public string? Detail { get; }

    /// <summary>Whether the retry predicate classified the error as transient.</summary>
    public bool IsRetryable { get; }

    /// <summary>The original exception, present only in the process that saw it (never stored).</summary>
    [JsonIgnore]
    public Exception? Exception { get; private init; }

    /// <summary>Builds an error from an exception, keeping the exception and its original stack.</summary>
    public static ItemError FromException(Exception exception, bool isRetryable)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var detail = exception is IErrorDetail withDetail ? withDetail.Detail : exception.StackTrace;
        var type = exception is IFailureHints { ErrorType: { } named } ? named : exception.GetType().FullName ?? exception.GetType().Name;
        return new ItemError(type, exception.Message, detail, isRetryable)
        {
            Exception = exception,
        };
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type}: {Message}";
}
