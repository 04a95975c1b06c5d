namespace BatchOps.Cli;

/// <summary>Exit status of the batchops command.</summary>
public static class ExitCodes
{
    /// <summary>Every item succeeded (or the command did what was asked).</summary>
    public const int Success = 0;

    /// <summary>Some item failed, or the job was stopped.</summary>
    public const int Failed = 1;

    /// <summary>Usage error or bad input (spec, settings, unknown job, unusable store).</summary>
    public const int Usage = 2;

    /// <summary>Interrupted by Ctrl+C (SIGINT) or SIGTERM; the job is left resumable.</summary>
    public const int Interrupted = 130;
}
