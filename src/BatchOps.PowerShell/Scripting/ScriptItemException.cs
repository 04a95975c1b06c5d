using System.Management.Automation;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// A script block failed for an item; keeps PowerShell's ErrorRecord and where in the script it failed.
/// Internal: it implements an engine interface, and public types must not need the engine before the module
/// initializer has installed the load context.
/// </summary>
internal sealed class ScriptItemException : RuntimeException, IErrorDetail
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
    }

    /// <summary>Position in the script and the script stack trace.</summary>
    public string? Detail { get; }
}
