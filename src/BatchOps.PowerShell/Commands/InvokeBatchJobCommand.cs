using System.Management.Automation;
using System.Runtime.CompilerServices;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using JobDefinition = BatchOps.Engine.Jobs.JobDefinition;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Completion;
using BatchOps.PowerShell.Output;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Runs a script block over pipeline input in chunks, in parallel, durably; or runs a stored job.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "BatchJob", DefaultParameterSetName = ScriptSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BatchItemResult), typeof(BatchBackgroundJob))]
public sealed class InvokeBatchJobCommand : BatchDefinitionCmdlet
{
    internal const string IdSet = "Id";

    private readonly ConditionalWeakTable<object, string> _keys = [];
    private PipelineInput<object?>? _input;
    private StreamingJobCreation? _creation;
    private bool _whatIf;
    private long _offered;

    /// <summary>Whether the pipeline's input ended (EndProcessing) rather than being closed by Ctrl+C.</summary>
    private volatile bool _inputEnded;

    /// <summary>Id or name of a stored job to run (its unfinished items). Accepts BatchJob objects from the pipeline.</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Id or name of the stored job to run.")]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobCompleter))]
    public string? Id { get; set; }

    /// <summary>With ThrottleLimit 1: run the script block in this session's runspace (sees its variables, functions and modules).</summary>
    [Parameter]
    public SwitchParameter UseCallerRunspace { get; set; }

    /// <summary>Runs the job in the background and outputs a PowerShell job (Get-Job, Receive-Job, Wait-Job, Stop-Job, Remove-Job).</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>
    /// <para type="description">With -Id: secret $using: values of the job, by variable name (@{ cred = $cred }). They are never stored, so a
    /// session other than the one that made the job passes them again; the error of a run without them names them.</para>
    /// </summary>
    [Parameter(ParameterSetName = IdSet)]
    [ValidateNotNull]
    public System.Collections.Hashtable? UsingValue { get; set; }

    internal override System.Collections.IDictionary? GivenUsingValues => UsingValue;

    protected override void BeginProcessing()
    {
        if (ParameterSetName == IdSet)
        {
            return;
        }

        if (ParameterSetName is SpecPathSet or SpecSet)
        {
            RunSpec();
            return;
        }

        if (Queue && (AsJob || UseCallerRunspace))
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("-Queue hands the job to workers and returns at once; it cannot be combined with -AsJob or -UseCallerRunspace (a worker started with Start-BatchWorker -UseCallerRunspace runs queued jobs in its own session)."),
                ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidArgument, null));
        }

        if (ParameterSetName == StageSet)
        {
            RunStaged();
            return;
        }

        var definition = BuildDefinition();
        if (Queue)
        {
            CheckQueueable(definition);
        }

        OpenItemChecks();
        _whatIf = !ShouldProcess($"new job '{definition.Name}'", Queue ? "Create the batch job and queue it for workers" : AsJob ? "Create the batch job and run it in the background" : "Create and run the batch job");
        if (_whatIf)
        {
            return;
        }

        if (AsJob || Queue || Checks is not null)
        {
            // In the background the items are stored first, then run from the store, so the job returns
            // as soon as the input has ended, whatever its size. With -ItemSchema too: nothing runs before
            // every item has been checked.
            _creation = new StreamingJobCreation(new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder)), definition, Checks?.Failed);
            return;
        }

        var options = definition.Settings.ToOptions();
        var session = ActiveRun = new JobRunSession();
        // What the workers run: the definition with its secret $using: values, which the stored one leaves out.
        var runnable = Runnable(new JobRecord { Id = "-", Name = definition.Name, OperationKind = definition.OperationKind, Operation = definition.Operation, Settings = definition.Settings, Undo = definition.Undo });
        var spec = JobRunSession.SpecOf(runnable);
        var pool = OpenPool(spec, options.ThrottleLimit, session);
        var input = _input = new PipelineInput<object?>(Math.Max(options.ChunkSize * 4, 256), batchSize: Math.Min(options.ChunkSize, 1_000));
        var runner = new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder));
        var operation = RunOperation.Script(pool, () => session.JobId);
        if (definition.Undo is not null)
        {
            // The undo block gets workers of its own only if the job is rolled back.
            var plan = new ScriptPlan(runnable, null, session.Pump, StreamPreferences(), () => session.JobId, UseCallerRunspace);
            operation = operation.WithUndo(plan);
        }

        var oneAtATime = UseCallerRunspace ? new JobSettings { ThrottleLimit = 1 } : null;
        session.Start(operation, definition.Name, RunKind.Resume, null, (request, ct) => runner.RunNewAsync(definition, input.Items, request with { InputCutShort = () => !_inputEnded, SettingsOverride = oneAtATime }, KeyFor, ct));
    }

    /// <summary>-SpecPath / -Spec: the spec's job is created with every check of the spec, then run here (or queued, or run as a PowerShell job).</summary>
    private void RunSpec()
    {
        if (UseCallerRunspace)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-UseCallerRunspace runs script blocks; a spec's exec, http and sql operations run in this process without runspaces, so leave it out."), ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidArgument, null));
        }

        var loaded = LoadSpec();
        if (CreateFromSpec(loaded, Queue ? "Create the batch job and queue it for workers" : AsJob ? "Create the batch job and run it in the background" : "Create and run the batch job") is not { } job)
        {
            return;
        }

        if (Queue)
        {
            WriteObject(QueueStoredJob(job));
        }
        else if (AsJob)
        {
            StartBackgroundJob(job, RunKind.Resume, null, ExplicitSettings);
        }
        else
        {
            RunStoredJob(this, job, RunKind.Resume, null, ExplicitSettings, useCallerRunspace: false);
        }
    }

    /// <summary>-Stage: the stages' items are stored first (they are given whole, not piped), then the job runs from the store.</summary>
    private void RunStaged()
    {
        var (definition, items) = BuildStagedDefinition();
        if (Queue)
        {
            CheckQueueable(definition);
        }

        var what = $"new job '{definition.Name}': {definition.Stages!.Count} stage(s), {items.Count} item(s)";
        if (!ShouldProcess(what, Queue ? "Create the batch job and queue it for workers" : AsJob ? "Create the batch job and run it in the background" : "Create and run the batch job"))
        {
            return;
        }

        var runner = new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder));
        var job = OrStoreError(() => runner.CreateAsync(definition, items, KeyedInput.Codec, CliXmlCodec.Instance.Format, i => i.Key).GetAwaiter().GetResult());
        if (Queue)
        {
            WriteObject(QueueStoredJob(job));
            return;
        }

        if (AsJob)
        {
            StartBackgroundJob(job, RunKind.Resume, null, ExplicitSettings, UseCallerRunspace);
            return;
        }

        RunStoredJob(this, job, RunKind.Resume, null, ExplicitSettings, UseCallerRunspace);
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName is StageSet or SpecPathSet or SpecSet)
        {
            return;
        }

        if (ParameterSetName == IdSet)
        {
            RunStored(Id!);
            return;
        }

        var index = _offered++;
        if (_whatIf)
        {
            ShouldProcess($"item {index}: {InputObject}", "Run the script block");
            return;
        }

        if (_creation is not null)
        {
            CheckItem(InputObject, index);
            OrStoreError(() => _creation.Add(new KeyedInput(InputObject, KeyOf(InputObject))));
            return;
        }

        if (KeyOf(InputObject) is { } key && InputObject is not null)
        {
            _keys.AddOrUpdate(InputObject, key);
        }

        _input!.Add(InputObject, ActiveRun!.Pump, Write, ActiveRun.InputClosed);
    }

    protected override void EndProcessing()
    {
        if (_creation is not null)
        {
            SettleItemChecks(_creation);
            var job = OrStoreError(_creation.Complete);
            if (Queue)
            {
                WriteObject(QueueStoredJob(job));
                return;
            }

            if (AsJob)
            {
                StartBackgroundJob(job, RunKind.Resume, null, ExplicitSettings, UseCallerRunspace);
                return;
            }

            RunStoredJob(this, job, RunKind.Resume, null, ExplicitSettings, UseCallerRunspace);
            return;
        }

        if (ParameterSetName == IdSet || ActiveRun is null)
        {
            return;
        }

        _inputEnded = true;
        _input!.Complete();
        _ = Finish(this, ActiveRun);
    }

    private void RunStored(string idOrName)
    {
        if (FindJob(idOrName) is not { } job || !ShouldProcess($"job '{job.Name}' ({job.Id}), {job.Counts.Unfinished} unfinished item(s)", "Run the batch job"))
        {
            return;
        }

        if (AsJob)
        {
            StartBackgroundJob(job, RunKind.Resume, null, ExplicitSettings, UseCallerRunspace);
            return;
        }

        RunStoredJob(this, job, RunKind.Resume, null, ExplicitSettings, UseCallerRunspace);
    }

    /// <summary>Runs a stored script-block job (resume or retry) from any BatchOps cmdlet, draining on its pipeline thread.</summary>
    internal static void RunStoredJob(BatchCmdlet cmdlet, JobRecord job, RunKind kind, IReadOnlyCollection<long>? indexes, JobSettings overrides, bool useCallerRunspace, string? stage = null, bool undo = false)
    {
        overrides = cmdlet.InCallerRunspace(overrides.Over(job.Settings).ToOptions().ThrottleLimit, useCallerRunspace, overrides);
        var options = overrides.Over(job.Settings).ToOptions();
        using var session = cmdlet.ActiveRun = new JobRunSession();
        if (cmdlet.OpenStoredOperation(job, session, options.ThrottleLimit, useCallerRunspace, overrides) is not { } operation)
        {
            cmdlet.ActiveRun = null;
            return;
        }

        var runner = new JobRunner(cmdlet.JobStore, StoreLocation.LogFolder(cmdlet.StoreFolder));
        session.Start(operation, job.Name, kind, indexes, (request, ct) => undo
            ? runner.UndoAsync(job.Id, request, ct)
            : runner.RunAsync(job.Id, request with { SettingsOverride = overrides, Stage = stage }, ct));
        try
        {
            _ = Finish(cmdlet, session);
        }
        finally
        {
            cmdlet.ActiveRun = null;
        }
    }

    /// <summary>
    /// Drains a run on the pipeline thread with <paramref name="write"/> (the cmdlet's Write by default), ends
    /// the command for a busy job or a failed store, writes BatchOps.JobFailed for a stopped run; returns the result.
    /// </summary>
    internal static JobRunResult Finish(BatchCmdlet cmdlet, JobRunSession session, Action<PumpMessage>? write = null)
    {
        JobRunResult result;
        try
        {
            result = session.Drain(write ?? cmdlet.Write);
        }
        catch (JobBusyException error)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.JobBusyId, ErrorCategory.ResourceBusy, null));
            throw;
        }
        catch (StoreException error)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.StoreErrorId, ErrorCategory.ResourceUnavailable, null));
            throw;
        }

        if (RunRecords.ForStoppedRun(result) is { } stopped)
        {
            cmdlet.WriteError(stopped);
        }

        return result;
    }

    private ScriptWorkerPool OpenPool(ScriptOperationSpec spec, int throttle, JobRunSession session)
    {
        _ = InCallerRunspace(throttle, UseCallerRunspace, new JobSettings());
        return UseCallerRunspace ? ScriptWorkerPool.ForCallerRunspace(spec, session.Pump) : ScriptWorkerPool.Open(spec, throttle, session.Pump, StreamPreferences());
    }

    internal override void CloseInput() => _input?.Complete();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _creation?.Cancel();
            _creation?.Dispose();
            _input?.Dispose();
        }

        base.Dispose(disposing);
    }

    private string? KeyFor(object? item) => item is not null && _keys.TryGetValue(item, out var key) ? key : null;
}
