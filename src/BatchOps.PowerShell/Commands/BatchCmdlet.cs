using System.Management.Automation;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Background;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// What every BatchOps cmdlet shares: the -Store parameter, opening the store, turning engine errors into
/// ErrorRecords with stable ids, and writing pump messages to the right stream on the pipeline thread.
/// </summary>
public abstract class BatchCmdlet : PSCmdlet, IDisposable
{
    private IJobStore? _store;
    private StoreTarget? _target;
    private CmdletStreams? _streams;

    /// <summary>
    /// The job store: a folder (the default is $env:BATCHOPS_HOME, else the user's data folder), or a PostgreSQL
    /// database shared by many hosts (postgresql://user@host/database, a connection string, or env:NAME).
    /// The default is $env:BATCHOPS_STORE, else the folder.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Store { get; set; }

    /// <summary>The run this command is draining, if any; Ctrl+C (StopProcessing) cancels it.</summary>
    internal JobRunSession? ActiveRun { get; set; }

    /// <summary>An -AsJob run going on in the caller's runspace (-UseCallerRunspace); Ctrl+C stops it.</summary>
    private Background.IBackgroundRun? _foreground;

    /// <summary>The store, opened on first use; a store that cannot be used ends the command.</summary>
    internal IJobStore JobStore
    {
        get
        {
            if (_store is null)
            {
                try
                {
                    _store = Target.Open();
                }
                catch (StoreException error)
                {
                    ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.StoreErrorId, ErrorCategory.ResourceUnavailable, Store));
                }
            }

            return _store!;
        }
    }

    /// <summary>The store's list of workers and queue; a one-machine SQLite store ends the command with the fix.</summary>
    internal Engine.Workers.IWorkQueue WorkQueue()
    {
        if (JobStore is not Engine.Workers.IWorkQueue queue)
        {
            ThrowTerminatingError(new ErrorRecord(
                new StoreException($"The job store '{JobStore.Location}' has no workers: it is one machine's SQLite file. Point -Store (or $env:BATCHOPS_STORE) at the PostgreSQL database the workers use: postgresql://user@host/database, or env:NAME."),
                ErrorRecordInfo.StoreErrorId, ErrorCategory.InvalidOperation, JobStore.Location));
        }

        return (Engine.Workers.IWorkQueue)JobStore;
    }

    /// <summary>Where the store is, and the folder of logs and settings.</summary>
    internal StoreTarget Target => _target ??= StoreTarget.From(Store, GetUnresolvedProviderPathFromPSPath);

    /// <summary>The store folder in use (for logs and settings).</summary>
    internal string StoreFolder => Target.Folder;

    /// <summary>Finds a job by id or name; writes a JobNotFound error and returns null when there is none.</summary>
    internal JobRecord? FindJob(string idOrName)
    {
        try
        {
            return JobResolver.ResolveAsync(JobStore, idOrName).GetAwaiter().GetResult();
        }
        catch (StoreException error)
        {
            WriteError(new ErrorRecord(error, ErrorRecordInfo.JobNotFoundId, ErrorCategory.ObjectNotFound, idOrName));
            return null;
        }
    }

    /// <summary>Writes one pump message to its stream. Pipeline thread only (the pump enforces it).</summary>
    internal void Write(PumpMessage message) => RunRecords.Dispatch(message, _streams ??= new CmdletStreams(this));

    /// <summary>
    /// -AsJob: runs a stored script-block job in the background as a PowerShell job (Get-Job, Receive-Job,
    /// Stop-Job …) and outputs it. Each job gets its own store connection and worker runspaces. Under
    /// -UseCallerRunspace the job runs now, in this session's runspace one item at a time, and is output
    /// finished: a runbook's Wait-Job and Receive-Job work unchanged, and Pester mocks reach its script blocks.
    /// </summary>
    internal void StartBackgroundJob(JobRecord job, Engine.Jobs.RunKind kind, IReadOnlyCollection<long>? indexes, Engine.Jobs.JobSettings overrides, bool useCallerRunspace = false)
    {
        if (!CanRun(job))
        {
            return;
        }

        if (useCallerRunspace)
        {
            WriteVerbose("-UseCallerRunspace: -AsJob runs the job now in this session's runspace and outputs it finished; Receive-Job has its results.");
            overrides = InCallerRunspace(overrides.Over(job.Settings).ToOptions().ThrottleLimit, useCallerRunspace, overrides);
        }

        var run = new BackgroundRun(Target, job.Id, kind, indexes, overrides, StreamPreferences(), Runnable(job), useCallerRunspace);
        var background = new BatchBackgroundJob($"{MyInvocation.MyCommand.Name} -Id {job.Id}", job.Name, job.Id, run);
        JobRepository.Add(background);
        _foreground = useCallerRunspace ? run : null;
        try
        {
            background.StartJob();
        }
        finally
        {
            _foreground = null;
        }

        WriteObject(background);
    }

    /// <summary>Ends the command for an invalid setting, naming the parameter and its valid range.</summary>
    internal void ThrowInvalidSetting(ArgumentOutOfRangeException error)
    {
        var parameter = BoundSettings.ParameterFor(error.ParamName);
        var message = error.Message.Replace($"{error.ParamName} ", $"-{parameter} ", StringComparison.Ordinal);
        ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(parameter, error.ActualValue, message), ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidArgument, error.ActualValue));
    }

    /// <summary>The bound parameters with switches as bool, for <see cref="BoundSettings"/>.</summary>
    internal IReadOnlyDictionary<string, object?> BoundValues() =>
        MyInvocation.BoundParameters.ToDictionary(p => p.Key, p => p.Value is SwitchParameter s ? s.IsPresent : (object?)p.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>The caller's effective stream preferences for the worker runspaces (decided by <see cref="Engine.Hosting.StreamPreferences"/>).</summary>
    internal Dictionary<string, object> StreamPreferences() =>
        Engine.Hosting.StreamPreferences.Resolve(BoundValues(), name => SessionState.PSVariable.GetValue(name)?.ToString())
            .ToDictionary(p => p.Key, p => Enum.TryParse<ActionPreference>(p.Value, true, out var value) ? (object)value : ActionPreference.SilentlyContinue, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the module runs this job (a script block or a sql table); writes BatchOps.NotAScriptJob when not.</summary>
    internal bool CanRun(JobRecord job)
    {
        if (RunOperation.CanRun(job))
        {
            return true;
        }

        try
        {
            _ = JobRunSession.SpecOf(job);
        }
        catch (InvalidOperationException error)
        {
            WriteError(new ErrorRecord(error, "BatchOps.NotAScriptJob", ErrorCategory.InvalidType, job.Id));
        }

        return false;
    }

    /// <summary>The operation of a stored job for this command's run; writes the error and returns null when it cannot be built.</summary>
    internal RunOperation? OpenStoredOperation(JobRecord job, JobRunSession session, int throttle, bool useCallerRunspace, Engine.Jobs.JobSettings? overrides = null)
    {
        if (!CanRun(job))
        {
            return null;
        }

        try
        {
            return RunOperation.ForStoredJob(Runnable(job), session, throttle, useCallerRunspace, StreamPreferences(), overrides);
        }
        catch (BatchOps.Sql.SqlSpecException error)
        {
            WriteError(new ErrorRecord(error, ErrorRecordInfo.InvalidSqlTargetId, ErrorCategory.InvalidArgument, job.Id));
            return null;
        }
        catch (Operations.Spec.JobSpecException error)
        {
            // A spec job whose stored definition no longer compiles (a template, a missing env: value).
            WriteError(new ErrorRecord(error, "BatchOps.InvalidSpec", ErrorCategory.InvalidData, job.Id));
            return null;
        }
    }

    /// <summary>
    /// -UseCallerRunspace (also from $PSDefaultParameterValues, as a Pester test sets it): the run's script
    /// blocks run in this session's runspace, one item at a time on the pipeline thread, so Pester mocks reach
    /// them whatever -ThrottleLimit the script passed. Returns <paramref name="overrides"/> with ThrottleLimit 1
    /// then, and says so in a verbose line when the throttle asked for was higher.
    /// </summary>
    internal Engine.Jobs.JobSettings InCallerRunspace(int throttle, bool useCallerRunspace, Engine.Jobs.JobSettings overrides)
    {
        if (!useCallerRunspace)
        {
            return overrides;
        }

        if (throttle > 1)
        {
            WriteVerbose($"-UseCallerRunspace: items run one at a time in this session's runspace; -ThrottleLimit {throttle} is ignored.");
        }

        return overrides with { ThrottleLimit = 1 };
    }

    /// <summary>-UsingValue of the cmdlets that run stored jobs: secret $using: values passed again (they are never stored).</summary>
    internal virtual System.Collections.IDictionary? GivenUsingValues => null;

    /// <summary>
    /// A job as a run opens its workers: a copy whose script blocks carry their secret $using: values again
    /// (<see cref="Scripting.SecretVault"/>; never stored), ending the command naming what is missing; and a
    /// warning first when its streamed input was cut short, so a resume never passes for the whole input.
    /// </summary>
    internal JobRecord Runnable(JobRecord job)
    {
        if (job.InputIncomplete)
        {
            WriteWarning($"Job '{job.Name}' ({job.Id}): {Engine.Jobs.JobCreation.InputIncompleteMessage(job.Counts.Total)} The rest of its input was never recorded; pipe it into a new job to run it.");
        }

        try
        {
            return Scripting.SecretVault.Hydrate(job, GivenUsingValues);
        }
        catch (Scripting.SecretsMissingException error)
        {
            ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.SecretsMissingId, ErrorCategory.AuthenticationError, job.Id));
            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/>; a store that fails ends the command with BatchOps.StoreError.</summary>
    internal T OrStoreError<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (StoreException error)
        {
            ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.StoreErrorId, ErrorCategory.WriteError, null));
            throw;
        }
    }

    internal void OrStoreError(Action action) => OrStoreError(() =>
    {
        action();
        return true;
    });

    /// <summary>Cancelled by Ctrl+C (StopProcessing): for the waits a command does outside a run.</summary>
    internal CancellationToken StopToken => _stopping.Token;

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Ctrl+C: cancels the active run (running attempts too); the job stays resumable.</summary>
    protected override void StopProcessing()
    {
        _stopping.Cancel();
        ActiveRun?.Cancel(CloseInput);
        _foreground?.Stop(force: false);
    }

    /// <summary>Ends the input of the active run (Ctrl+C); commands that stream input override it.</summary>
    internal virtual void CloseInput()
    {
    }

    private sealed class CmdletStreams(BatchCmdlet cmdlet) : IRunStreams
    {
        public void Output(object? value) => cmdlet.WriteObject(value);

        public void Error(ErrorRecord record) => cmdlet.WriteError(record);

        public void Verbose(string message) => cmdlet.WriteVerbose(message);

        public void Debug(string message) => cmdlet.WriteDebug(message);

        public void Warning(string message) => cmdlet.WriteWarning(message);

        public void Information(InformationRecord record) => cmdlet.WriteInformation(record);

        public void Progress(ProgressRecord record) => cmdlet.WriteProgress(record);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the store and what derived cmdlets hold.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            ActiveRun?.Dispose();
            _store?.Dispose();
        }
    }
}
