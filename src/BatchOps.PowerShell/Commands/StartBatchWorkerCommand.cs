using System.Collections.Concurrent;
using System.Management.Automation;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;
using BatchOps.PowerShell.Scripting;
using BatchOps.Sql;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Runs queued jobs' chunks in this session until stopped: a worker on a shared PostgreSQL store.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "BatchWorker")]
[OutputType(typeof(void))]
public sealed class StartBatchWorkerCommand : BatchCmdlet
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abandon = new();

    /// <summary>Jobs run at once (a job's items run at most ThrottleLimit at a time in each worker).</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int Concurrency { get; set; } = 1;

    /// <summary>
    /// Operation kinds to run: scriptblock (New-BatchJob / Invoke-BatchJob -Queue), sql (Write-BatchTable and spec jobs), and exec and
    /// http (jobs submitted from specs with batchops submit). All of them by default.
    /// </summary>
    [Parameter]
    [ValidateSet(ScriptOperationSpec.Kind, SqlOperation.Kind, "exec", "http")]
    public string[] Kind { get; set; } = [ScriptOperationSpec.Kind, SqlOperation.Kind, "exec", "http"];

    /// <summary>The worker's name in claims and logs; the default is host:pid.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>How long a claimed chunk stays this worker's without a heartbeat; then another worker takes it over. The default is 30 seconds.</summary>
    [Parameter]
    [SecondsOrTimeSpan]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On Ctrl+C, how long the chunks in hand may take to finish before they are given back unrecorded. The default is 30 seconds.</summary>
    [Parameter]
    [SecondsOrTimeSpan]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Return once there is nothing left to claim, instead of waiting for more work.</summary>
    [Parameter]
    public SwitchParameter ExitWhenIdle { get; set; }

    /// <summary>
    /// Runs the claimed jobs' script blocks in this session's runspace, one item at a time (for Pester: mocks
    /// reach them). -Concurrency is then 1 and the jobs' -ThrottleLimit is ignored. Also honoured from
    /// $PSDefaultParameterValues.
    /// </summary>
    [Parameter]
    public SwitchParameter UseCallerRunspace { get; set; }

    protected override void EndProcessing()
    {
        var options = new WorkerOptions
        {
            Name = Name,
            Concurrency = UseCallerRunspace ? 1 : Concurrency,
            Kinds = Kind,
            Lease = Lease,
            ExitWhenIdle = ExitWhenIdle,
            LogFolder = StoreLocation.LogFolder(StoreFolder),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException error)
        {
            ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidArgument, Lease));
        }

        if (UseCallerRunspace)
        {
            WriteVerbose($"-UseCallerRunspace: the worker runs one chunk at a time, its items one at a time in this session's runspace; -Concurrency {Concurrency} and the jobs' -ThrottleLimit are ignored.");
        }

        var store = JobStore;
        var pump = new PipelinePump();
        var preferences = StreamPreferences();
        var operations = new ConcurrentDictionary<string, Lazy<(RunOperation Operation, QueuedJobHandler Handler)>>();
        QueuedJobHandler HandlerFor(JobRecord job) => operations.GetOrAdd(job.Id, _ => new(() =>
        {
            // One worker pool per job (per stage of a staged job), opened at its first chunk and kept for the next ones.
            var operation = RunOperation.ForStoredJob(job, pump, () => job.Id, job.Settings.ToOptions().ThrottleLimit, UseCallerRunspace, preferences);
            var handler = QueuedJobHandler.Create(new JobRunRequest<object?, object?>
            {
                Operation = operation.Operation,
                StageOperation = operation.StageOperation,
                Undo = operation.Undo,
                InputCodec = operation.InputCodec,
                OutputCodec = operation.OutputCodec,
                Notifier = Operations.Notifications.JobNotifier.Default,
            });
            return (operation, handler);
        })).Value.Handler;

        JobWorker worker;
        try
        {
            worker = new JobWorker(store, HandlerFor, options);
        }
        catch (StoreException error)
        {
            ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.StoreErrorId, ErrorCategory.InvalidOperation, store.Location));
            return;
        }

        worker.Reported += e => pump.Post(
            e.Kind is WorkerEventKind.Lost or WorkerEventKind.StoreError or WorkerEventKind.NameInUse or WorkerEventKind.StopAsked or WorkerEventKind.NoticeFailed ? PumpMessageKind.Warning : PumpMessageKind.Verbose,
            e.ToString());
        WriteVerbose($"Worker {worker.Identity.Name} on {store.Location}: kinds {string.Join(", ", Kind)}, concurrency {Concurrency}, lease {Lease.TotalSeconds:0.#} s.");
        // The settings file's retention, as batchops worker applies it: at start, then hourly, said as verbose
        // lines (a store error as a warning). Stopping ends the waiting; an application under way finishes
        // unless the chunks are abandoned too.
        var rules = LoadRetention();
        var retention = Task.Run(() => rules.RunAsync(
            store, options.LogFolder, TimeProvider.System, (line, failed) => pump.Post(failed ? PumpMessageKind.Warning : PumpMessageKind.Verbose, line), _stopping.Token, _abandon.Token));
        var run = Task.Run(() => worker.RunAsync(_stopping.Token, _abandon.Token));
        run.ContinueWith(_ => pump.Complete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            pump.DrainUntilCompleted(Write);
            run.GetAwaiter().GetResult();
        }
        finally
        {
            // A stopped pipeline ends the drain early: the worker still finishes (or gives back) its chunks
            // before their worker pools close.
            try
            {
                run.Wait(DrainTimeout + TimeSpan.FromSeconds(10));
            }
            catch (AggregateException)
            {
                // Reported by GetResult above when the drain ran to its end.
            }

            _stopping.Cancel();
            bool retentionDone;
            try
            {
                retentionDone = retention.Wait(DrainTimeout + TimeSpan.FromSeconds(10));
            }
            catch (AggregateException error)
            {
                retentionDone = true;
                pump.Post(PumpMessageKind.Warning, $"retention not applied: {error.InnerException?.Message}");
            }

            if (retentionDone && !Stopping)
            {
                pump.Drain(Write); // what the retention said after the worker's last message
            }

            foreach (var entry in operations.Values.Where(l => l.IsValueCreated))
            {
                entry.Value.Operation.Resources.Dispose();
            }
        }
    }

    /// <summary>The settings file's retention; a settings file that does not load is warned about, and nothing is removed.</summary>
    private Retention LoadRetention()
    {
        try
        {
            return Engine.Config.SettingsFile.Load(Engine.Config.SettingsFile.DefaultPath(StoreFolder)).Retention;
        }
        catch (Exception error) when (error is FormatException or IOException)
        {
            WriteWarning($"The settings file's retention was not applied: {error.Message}");
            return Retention.None;
        }
    }

    protected override void StopProcessing()
    {
        // Ctrl+C: claim nothing more, let the chunks in hand finish, give them back after the drain timeout.
        _stopping.Cancel();
        _abandon.CancelAfter(DrainTimeout);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stopping.Dispose();
            _abandon.Dispose();
        }

        base.Dispose(disposing);
    }
}
