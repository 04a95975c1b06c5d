using System.Net.Http.Headers;

namespace BatchOps.Engine.Execution;

/// <summary>
/// One rule for HTTP answers, whoever made the request (the http kind, Invoke-RestMethod in a script block):
/// 408, 429 and 5xx may succeed later and honour Retry-After; any other 4xx will not, and fails at once.
/// </summary>
public static class HttpFailure
{
    /// <summary>The error type of an item whose request was answered with an error status.</summary>
    public const string ErrorType = "HttpStatus";

    /// <summary>Whether a request answered <paramref name="status"/> is worth another attempt.</summary>
    public static bool IsRetryable(int status) => status is 408 or 429 or >= 500;

    /// <summary>Retry-After as seconds or as a date (then relative to <paramref name="now"/>); null when absent.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>The retry hint of an answer: Retry-After when the status is retryable, else none.</summary>
    public static TimeSpan? RetryAfterOf(HttpResponseMessage response, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(response);
        return IsRetryable((int)response.StatusCode) ? RetryAfter(response.Headers.RetryAfter, now) : null;
    }
}
