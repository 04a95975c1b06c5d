using System.Management.Automation;
using BatchOps.PowerShell.Background;

#pragma warning disable IDE0130 // Users see the short namespace in Get-Job and Get-Member: [BatchOps.BatchBackgroundJob].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// What Invoke-BatchJob -AsJob and Restart-BatchFailed -AsJob return: a PowerShell job (Get-Job, Receive-Job,
/// Wait-Job, Stop-Job, Remove-Job) running a durable batch job in the background. Results stream into its
/// output as items finish; failed items into its error stream. Stop-Job stops the batch job gracefully
/// (running items get a moment to finish) and leaves it resumable. The batch job itself stays visible to
/// Get-BatchJob under <see cref="BatchJobId"/>.
/// </summary>
public sealed class BatchBackgroundJob : Job2
{
    private readonly IBackgroundRun _run;
    private readonly object _stateLock = new();
    private string _status = "Starting";

    internal BatchBackgroundJob(string command, string name, string batchJobId, IBackgroundRun run)
        : base(command, name)
    {
        BatchJobId = batchJobId;
        _run = run;
        PSJobTypeName = "BatchOpsJob";
    }

    /// <summary>Id of the batch job in the store (Get-BatchJob -Id).</summary>
    public string BatchJobId { get; }

    /// <inheritdoc/>
    public override string StatusMessage => _status;

    /// <inheritdoc/>
    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Progress.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Warning.Count > 0 || Information.Count > 0;

    /// <inheritdoc/>
    public override string Location => Environment.MachineName;

    /// <inheritdoc/>
    public override void StartJob()
    {
        lock (_stateLock)
        {
            if (JobStateInfo.State != JobState.NotStarted)
            {
                throw new InvalidOperationException($"Job {Name} has already been started.");
            }

            SetJobState(JobState.Running);
            _status = "Running";
        }

        _run.Start(this);
    }

    /// <inheritdoc/>
    public override void StartJobAsync()
    {
        StartJob();
        OnStartJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
    }

    /// <summary>Stop-Job: a graceful stop of the batch job; returns when the run has recorded its end.</summary>
    public override void StopJob() => StopJob(force: false, reason: "Stop-Job");

    /// <inheritdoc/>
    public override void StopJob(bool force, string reason)
    {
        if (IsFinishedState(JobStateInfo.State))
        {
            return;
        }

        lock (_stateLock)
        {
            if (JobStateInfo.State == JobState.Running)
            {
                SetJobState(JobState.Stopping);
                _status = "Stopping";
            }
        }

        _run.Stop(force);
        Finished.WaitOne();
    }

    /// <inheritdoc/>
    public override void StopJobAsync()
    {
        StopJob();
        OnStopJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
    }

    /// <inheritdoc/>
    public override void StopJobAsync(bool force, string reason)
    {
        StopJob(force, reason);
        OnStopJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
    }

    /// <inheritdoc/>
    public override void SuspendJob() => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void SuspendJob(bool force, string reason) => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void SuspendJobAsync() => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void SuspendJobAsync(bool force, string reason) => throw NotSupported("suspended");

    /// <inheritdoc/>
    public override void ResumeJob() => throw NotSupported("resumed with Resume-Job");

    /// <inheritdoc/>
    public override void ResumeJobAsync() => throw NotSupported("resumed with Resume-Job");

    /// <inheritdoc/>
    public override void UnblockJob() => throw NotSupported("unblocked");

    /// <inheritdoc/>
    public override void UnblockJobAsync() => throw NotSupported("unblocked");

    /// <summary>Called by the run when it has ended and recorded its end.</summary>
    internal void Ended(JobState state, string status)
    {
        lock (_stateLock)
        {
            _status = status;
            if (JobStateInfo.State == JobState.Stopping)
            {
                state = JobState.Stopped;
            }

            SetJobState(state);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _run.Dispose();
        }

        base.Dispose(disposing);
    }

    private static bool IsFinishedState(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Stopped;

    private NotSupportedException NotSupported(string what) =>
        new($"A BatchOps job cannot be {what}. Stop it with Stop-Job (it stays resumable) and run the rest later with Invoke-BatchJob -Id {BatchJobId}.");
}
