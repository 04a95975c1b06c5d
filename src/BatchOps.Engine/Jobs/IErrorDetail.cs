namespace BatchOps.Engine.Jobs;

/// <summary>
/// Implemented by exceptions that carry a more useful detail than a stack trace
/// (a child process's stderr, an HTTP response body); <see cref="ItemError"/> keeps it.
/// </summary>
public interface IErrorDetail
{
    /// <summary>The detail text to store with the error.</summary>
    string? Detail { get; }
}
