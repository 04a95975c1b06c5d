namespace BatchOps.Engine.Jobs;

/// <summary>Totals of one run, returned when it ends.</summary>
public sealed record JobSummary
{
    /// <summary>Final status of the run.</summary>
    public required JobStatus Status { get; init; }

    /// <summary>Why the run stopped early, if it did.</summary>
    public StopReason StopReason { get; init; }

    /// <summary>Items the run was handed (pulled from the input).</summary>
    public long Total { get; init; }

    /// <summary>Items that succeeded.</summary>
    public long Succeeded { get; init; }

    /// <summary>Items that failed.</summary>
    public long Failed { get; init; }

    /// <summary>Items that never started because the run stopped.</summary>
    public long Skipped { get; init; }

    /// <summary>Items cancelled by the caller.</summary>
    public long Cancelled { get; init; }

    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the run ended.</summary>
    public DateTimeOffset EndedAt { get; init; }

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Duration => EndedAt - StartedAt;

    /// <summary>Finished items (any status but Skipped or Cancelled) per second of run time.</summary>
    public double ItemsPerSecond => Duration > TimeSpan.Zero ? (Succeeded + Failed) / Duration.TotalSeconds : 0;

    /// <summary>A sentence saying why the run failed or stopped; null for a run that was not stopped.</summary>
    public string? Message { get; init; }

    /// <summary>The exception behind a <see cref="StopReason.Fault"/> stop.</summary>
    public Exception? Fault { get; init; }

    /// <summary>Derives the final status from the counts and the stop reason.</summary>
    public static JobStatus StatusFor(StopReason reason, long succeeded, long failed) => reason switch
    {
        StopReason.Cancelled => JobStatus.Cancelled,
        StopReason.ErrorPolicy or StopReason.JobTimeout or StopReason.Fault => JobStatus.Failed,
        _ when failed == 0 => JobStatus.Completed,
        _ when succeeded == 0 => JobStatus.Failed,
        _ => JobStatus.CompletedWithErrors,
    };

    /// <summary>These totals with another run's counts added (the stages of a job, of a rollback).</summary>
    public JobSummary Plus(JobSummary run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return this with
        {
            Total = Total + run.Total,
            Succeeded = Succeeded + run.Succeeded,
            Failed = Failed + run.Failed,
            Skipped = Skipped + run.Skipped,
            Cancelled = Cancelled + run.Cancelled,
        };
    }
}
