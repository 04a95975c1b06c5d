using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// One run of a script-block job from a cmdlet: the pump, the stop handles and the background run. The
/// cmdlet starts it, feeds input, drains it on the pipeline thread and stops it from StopProcessing.
/// </summary>
internal sealed class JobRunSession : IDisposable
{
    /// <summary>How long items running at Ctrl+C may take to finish before they are cancelled.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationTokenSource _inputClosed = new();
    private readonly BatchStopSource _stop = new();
    private Task<JobRunResult>? _run;
    private RunOperation? _operation;
    private string _jobId = string.Empty;
    private string _jobName = string.Empty;

    public PipelinePump Pump { get; } = new();

    /// <summary>Fires at Ctrl+C: the pipeline thread stops handing input over.</summary>
    public CancellationToken InputClosed => _inputClosed.Token;

    /// <summary>The id of the job being run, once the runner has created or opened it.</summary>
    public string JobId => Volatile.Read(ref _jobId);

    /// <summary>Starts a run in the background; <paramref name="start"/> receives the request to pass to the runner.</summary>
    public void Start(RunOperation operation, string jobName, RunKind kind, IReadOnlyCollection<long>? indexes, Func<JobRunRequest<object?, object?>, CancellationToken, Task<JobRunResult>> start)
    {
        _operation = operation;
        _jobName = jobName;
        var request = new JobRunRequest<object?, object?>
        {
            Operation = operation.Operation,
            StageOperation = operation.StageOperation,
            Undo = operation.Undo,
            UndoObserver = new UndoObserver(Pump, () => (_jobId, _jobName), operation.InputView),
            InputCodec = operation.InputCodec,
            OutputCodec = operation.OutputCodec,
            Kind = kind,
            Indexes = indexes,
            Observer = new RunObserver(Pump, () => (_jobId, _jobName), operation.InputView),
            StageObserver = stage => new RunObserver(Pump, () => (_jobId, _jobName), operation.InputView, stage.Name),
            Stop = _stop,
            OnStarted = job => (_jobId, _jobName) = (job.Id, job.Name),
            Notifier = Operations.Notifications.JobNotifier.Default,
        };
        _run = Task.Run(() => start(request, _cancel.Token));
        _run.ContinueWith(_ => Pump.Complete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Writes everything the run reports until it ends; returns its result (or rethrows its failure).</summary>
    public JobRunResult Drain(Action<PumpMessage> write)
    {
        Pump.DrainUntilCompleted(write);
        return _run!.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Ctrl+C: nothing new starts and input stops at once; items already running get <see cref="StopGrace"/>
    /// to finish (so they are recorded and never run again), then their attempts are cancelled. The job
    /// ends Cancelled and stays resumable.
    /// </summary>
    public void Cancel(Action? closeInput = null, bool force = false)
    {
        _inputClosed.Cancel();
        closeInput?.Invoke();
        _stop.Stop(StopMode.Graceful);
        if (force)
        {
            _cancel.Cancel();
        }
        else
        {
            _cancel.CancelAfter(StopGrace);
        }
    }

    public void Dispose()
    {
        // After Ctrl+C the pipeline thread stops draining; let the run record its end (Cancelled, lease
        // released) before its workers go away, so the job shows Cancelled rather than Interrupted.
        if (_run is { IsCompleted: false })
        {
            try
            {
                if (!_run.Wait(StopGrace + StopGrace))
                {
                    _cancel.Cancel();
                    _run.Wait(TimeSpan.FromSeconds(30));
                }
            }
            catch (AggregateException)
            {
            }
        }

        _operation?.Resources.Dispose();
        _stop.Dispose();
        _cancel.Dispose();
        _inputClosed.Dispose();
        Pump.Dispose();
    }

    /// <summary>The stored script-block operation of a job.</summary>
    public static ScriptOperationSpec SpecOf(JobRecord job)
    {
        if (job.OperationKind != ScriptOperationSpec.Kind)
        {
            throw new InvalidOperationException(
                $"Job '{job.Name}' ({job.Id}) runs a '{job.OperationKind}' operation, which the module does not run; run it with the batchops command ('batchops resume {job.Id}').");
        }

        return System.Text.Json.JsonSerializer.Deserialize<ScriptOperationSpec>(job.Operation, StoreJson.Options)
            ?? throw new InvalidOperationException($"Job '{job.Name}' ({job.Id}) has no stored script.");
    }
}
