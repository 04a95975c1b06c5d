using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Commands;
using BatchOps.PowerShell.Output;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Background;

/// <summary>
/// Runs a stored script-block job (resume or retry) on a thread of its own for a <see cref="BatchBackgroundJob"/>:
/// its own store connection, worker runspaces and pump, drained into the job's streams. With
/// <paramref name="inCallerRunspace"/> (-AsJob under -UseCallerRunspace, as a Pester test sets it) it runs at once
/// on the starting pipeline thread instead, one item at a time in the caller's runspace, so mocks reach the
/// script blocks; the job is finished when it is output.
/// </summary>
internal sealed class BackgroundRun(
    StoreTarget target,
    string jobId,
    RunKind kind,
    IReadOnlyCollection<long>? indexes,
    JobSettings overrides,
    IReadOnlyDictionary<string, object> preferences,
    JobRecord withSecrets,
    bool inCallerRunspace = false) : IBackgroundRun
{
    private readonly object _lock = new();
    private JobRunSession? _session;
    private bool _stopRequested;
    private bool _forceRequested;

    public void Start(BatchBackgroundJob job)
    {
        if (inCallerRunspace)
        {
            Run(job);
            return;
        }

        new Thread(() => Run(job)) { IsBackground = true, Name = $"BatchOps job {jobId}" }.Start();
    }

    public void Stop(bool force)
    {
        lock (_lock)
        {
            _stopRequested = true;
            _forceRequested |= force;
            _session?.Cancel(force: force);
        }
    }

    public void Dispose() => Stop(force: true);

    private void Run(BatchBackgroundJob job)
    {
        var streams = new JobStreams(job);
        try
        {
            using var store = target.Open();
            var record = store.GetJobAsync(jobId).GetAwaiter().GetResult()
                ?? throw new StoreException($"There is no job '{jobId}' in '{store.Location}' any more.");
            var options = overrides.Over(record.Settings).ToOptions();
            using var session = new JobRunSession();
            // The definitions as the starting session filled them in with its secret values (never stored).
            var runnable = record with { Operation = withSecrets.Operation, Undo = withSecrets.Undo, Stages = withSecrets.Stages };
            var operation = RunOperation.ForStoredJob(runnable, session, options.ThrottleLimit, inCallerRunspace, preferences);
            var runner = new JobRunner(store, StoreLocation.LogFolder(target.Folder));
            session.Start(operation, record.Name, kind, indexes, (request, ct) => runner.RunAsync(record.Id, request with { SettingsOverride = overrides }, ct));
            lock (_lock)
            {
                _session = session;
                if (_stopRequested)
                {
                    session.Cancel(force: _forceRequested);
                }
            }

            var result = session.Drain(message => RunRecords.Dispatch(message, streams));
            lock (_lock)
            {
                _session = null;
            }

            var summary = $"{OutputViews.View(result.Job.Status)}: {result.Job.Counts.Succeeded} succeeded, {result.Job.Counts.Failed} failed of {result.Job.Counts.Total}";
            if (RunRecords.ForStoppedRun(result) is { } stopped)
            {
                streams.Error(stopped);
                job.Ended(JobState.Failed, summary);
            }
            else
            {
                job.Ended(result.Run.StopReason == StopReason.Cancelled ? JobState.Stopped : JobState.Completed, summary);
            }
        }
        catch (Exception error) when (error is StoreException or InvalidOperationException or ArgumentException or IOException or BatchOps.Sql.SqlSpecException or Operations.Spec.JobSpecException)
        {
            streams.Error(new ErrorRecord(error, error switch
            {
                JobBusyException => Engine.Hosting.ErrorRecordInfo.JobBusyId,
                BatchOps.Sql.SqlSpecException => Engine.Hosting.ErrorRecordInfo.InvalidSqlTargetId,
                _ => Engine.Hosting.ErrorRecordInfo.StoreErrorId,
            }, ErrorCategory.OperationStopped, jobId));
            job.Ended(JobState.Failed, error.Message);
        }
    }

    /// <summary>The job's own streams; thread-safe collections that Receive-Job reads.</summary>
    private sealed class JobStreams(BatchBackgroundJob job) : IRunStreams
    {
        public void Output(object? value) => job.Output.Add(PSObject.AsPSObject(value ?? string.Empty));

        public void Error(ErrorRecord record) => job.Error.Add(record);

        public void Verbose(string message) => job.Verbose.Add(new VerboseRecord(message));

        public void Debug(string message) => job.Debug.Add(new DebugRecord(message));

        public void Warning(string message) => job.Warning.Add(new WarningRecord(message));

        public void Information(InformationRecord record) => job.Information.Add(record);

        public void Progress(ProgressRecord record) => job.Progress.Add(record);
    }
}
