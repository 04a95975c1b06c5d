namespace BatchOps.Engine.Jobs;

/// <summary>One unit of work as the engine sees it.</summary>
/// <param name="Index">Stable 0-based position in the job's input; kept across resume and retry.</param>
/// <param name="Value">The input value handed to the operation.</param>
/// <param name="Key">Optional caller-chosen identity (a host name, a file path) shown in results and logs.</param>
public readonly record struct BatchItem<T>(long Index, T Value, string? Key = null);
