namespace BatchOps.Engine.Jobs;

/// <summary>Which items of a stored job a run takes.</summary>
public enum RunKind
{
    /// <summary>Every item that is neither Succeeded nor Failed: a first run, or the rest after a stop or crash.</summary>
    Resume = 0,

    /// <summary>Failed items only (all, or chosen ones), each reset to Pending with its earlier error kept in its history.</summary>
    RetryFailed = 1,
}
