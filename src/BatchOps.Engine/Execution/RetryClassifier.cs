using System.Security;
using Polly.Timeout;

namespace BatchOps.Engine.Execution;

/// <summary>The default answer to "is this error worth another attempt?".</summary>
public static class RetryClassifier
{
    /// <summary>
    /// Retries by default, because most failures a batch meets (network, locks, throttling, timeouts) heal
    /// with time; refuses errors that another attempt cannot fix: bad arguments or formats, unsupported
    /// calls, missing permissions, and <see cref="BatchOperationException"/>s marked non-retryable.
    /// </summary>
    public static bool IsRetryable(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            IFailureHints hints => hints.IsRetryable,
            TimeoutRejectedException or TimeoutException => true,
            ArgumentException or FormatException or InvalidCastException or NotSupportedException
                or NotImplementedException or UnauthorizedAccessException or SecurityException => false,
            AggregateException { InnerExceptions.Count: > 0 } aggregate => aggregate.InnerExceptions.All(IsRetryable),
            _ => true,
        };
    }
}
