using System.Management.Automation;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// A script block failed for an item; keeps PowerShell's ErrorRecord and where in the script it failed.
/// Internal: it implements an engine interface, and public types must not need the engine before the module
/// initializer has installed the load context.
/// </summary>
internal sealed class ScriptItemException : RuntimeException, IErrorDetail, IFailureHints
{
    public ScriptItemException()
    {
    }

    public ScriptItemException(string message)
        : base(message)
    {
    }

    public ScriptItemException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <param name="error">The error that ended the item's script block.</param>
    /// <param name="retry">What the job's -RetryOn / -NoRetryOn script blocks decided (null: the rules below).</param>
    /// <param name="note">A line to keep in the detail, for example why a -RetryOn block failed.</param>
    internal ScriptItemException(ErrorRecord error, bool? retry = null, string? note = null)
        : base(MessageOf(error), error.Exception, error)
    {
        Detail = string.Join(Environment.NewLine, new[] { error.InvocationInfo?.PositionMessage, error.ScriptStackTrace, note }.Where(s => !string.IsNullOrEmpty(s)));
        if (Find<RetryAfter>(error.Exception) is { } asked)
        {
            // throw [BatchOps.RetryAfter]::new(…): the script asks for another attempt, after its own delay.
            RetryAfter = asked.Delay;
            ErrorType = BatchOps.RetryAfter.ErrorType;
        }
        else if (HttpResponseOf(error.Exception) is { } response)
        {
            // Invoke-RestMethod / Invoke-WebRequest answered with an error status: the http kind's rule.
            StatusCode = (int)response.StatusCode;
            IsRetryable = HttpFailure.IsRetryable(StatusCode.Value);
            RetryAfter = HttpFailure.RetryAfterOf(response, DateTimeOffset.UtcNow);
            ErrorType = HttpFailure.ErrorType;
        }

        IsRetryable = retry ?? IsRetryable;
    }

    /// <summary>Position in the script and the script stack trace.</summary>
    public string? Detail { get; }

    /// <summary>
    /// What -RetryOn / -NoRetryOn decided when given; else false for an HTTP answer that another attempt cannot
    /// change (4xx but 408 and 429), true otherwise, as for any script error.
    /// </summary>
    public bool IsRetryable { get; } = true;

    /// <summary>Retry-After of a retryable HTTP answer, or the delay a script asked for with [BatchOps.RetryAfter].</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>HttpStatus for an HTTP answer, RetryAfter when the script asked for a retry; null otherwise (the exception's type is recorded).</summary>
    public string? ErrorType { get; }

    /// <summary>The HTTP status of an answer a web cmdlet failed on.</summary>
    public int? StatusCode { get; }

    /// <summary>The error's text; for an HTTP answer led by its status and reason, which the web cmdlets leave out when the answer has a body.</summary>
    private static string MessageOf(ErrorRecord error) =>
        HttpResponseOf(error.Exception) is { } response && Find<RetryAfter>(error.Exception) is null
            ? $"HTTP {(int)response.StatusCode}{(string.IsNullOrEmpty(response.ReasonPhrase) ? string.Empty : $" ({response.ReasonPhrase})")}: {error}"
            : error.ToString();

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// The response of a web cmdlet's HttpResponseException (Microsoft.PowerShell.Commands.Utility, which the
    /// module does not reference: found by its Response property) anywhere in the exception chain.
    /// </summary>
    private static HttpResponseMessage? HttpResponseOf(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current.GetType().Name == "HttpResponseException" && current.GetType().GetProperty("Response")?.GetValue(current) is HttpResponseMessage response)
            {
                return response;
            }
        }

        return null;
    }
}
