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

    internal ScriptItemException(ErrorRecord error)
        : base(error.ToString(), error.Exception, error)
    {
        Detail = string.Join(Environment.NewLine, new[] { error.InvocationInfo?.PositionMessage, error.ScriptStackTrace }.Where(s => !string.IsNullOrEmpty(s)));
        if (HttpResponseOf(error.Exception) is { } response)
        {
            // Invoke-RestMethod / Invoke-WebRequest answered with an error status: the http kind's rule.
            IsRetryable = HttpFailure.IsRetryable((int)response.StatusCode);
            RetryAfter = HttpFailure.RetryAfterOf(response, DateTimeOffset.UtcNow);
            ErrorType = HttpFailure.ErrorType;
        }
    }

    /// <summary>Position in the script and the script stack trace.</summary>
    public string? Detail { get; }

    /// <summary>False for an HTTP answer that another attempt cannot change (4xx but 408 and 429); true otherwise, as for any script error.</summary>
    public bool IsRetryable { get; } = true;

    /// <summary>Retry-After of a retryable HTTP answer.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>HttpStatus for an HTTP answer; null otherwise (the exception's type is recorded).</summary>
    public string? ErrorType { get; }

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
