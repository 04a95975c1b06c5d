namespace BatchOps.Engine.Jobs;

/// <summary>Why a run ended before every item had run.</summary>
public enum StopReason
{
    /// <summary>The run was not stopped: every item it was given ran.</summary>
    None = 0,

    /// <summary>StopOnError or MaxErrors was reached.</summary>
    ErrorPolicy = 1,

    /// <summary>The caller asked the run to stop (graceful or forced).</summary>
    Cancelled = 2,

    /// <summary>The whole-job timeout elapsed.</summary>
    JobTimeout = 3,

    /// <summary>The input, an observer or the store threw; see <see cref="JobSummary.Fault"/>.</summary>
    Fault = 4,
}
