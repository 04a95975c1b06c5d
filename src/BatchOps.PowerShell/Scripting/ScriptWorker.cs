using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using BatchOps.Engine.Hosting;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// One worker runspace running one long-lived driver pipeline: the script block is compiled once, then
/// items are pulled from the shared queue and the block is invoked per item inside its own try/catch, so
/// one item's terminating error never kills the worker. A timeout or forced stop stops the pipeline; the
/// driver is then started again on the same runspace. Public because the driver script calls
/// <see cref="Run"/>; not meant for users.
/// </summary>
public sealed class ScriptWorker : IDisposable
{
    // Errors inside the block stop the item (so an item succeeds only if its script ran cleanly);
    // streams other than output are forwarded to the caller by the pool.
    // Taking an item and marking it begun happen in one .NET call (Next), so a stop can never land between
    // them and lose an item: whatever the pipeline held when it stopped is settled by OnDriverEnded.
    // The block is created here, so it belongs to this runspace; the loop itself runs in .NET (Run), which
    // costs less per item than a loop of script with three method calls in it.
    private const string DriverScript = """
        param($Script, $Worker)
        $ErrorActionPreference = 'Stop'
        $Worker.Run([scriptblock]::Create($Script))
        """;

    private readonly Runspace _runspace;
    private readonly WorkQueue _queue;
    private readonly string _script;
    private readonly PipelinePump _pump;
    private readonly object _lock = new();
    [ThreadStatic]
    private static ScriptWorker? t_handingBack;

    private System.Management.Automation.PowerShell? _pipeline;
    private ScriptWork? _current;

    // The item the engine handed this driver while it was finishing the previous one, on this thread.
    private ScriptWork? _next;
    private CancellationTokenSource _driverStop = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private readonly RetryPredicates? _retry;

    internal ScriptWorker(Runspace runspace, WorkQueue queue, string script, PipelinePump pump, RetryPredicates? retry)
    {
        _runspace = runspace;
        _queue = queue;
        _script = script;
        _pump = pump;
        _retry = retry;
    }

    /// <summary>Completes when the driver has ended for good (the pool closed): its runspace is free again.</summary>
    internal Task Ended => _ended.Task;

    internal void Start()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _driverStop.Dispose();
            _driverStop = new CancellationTokenSource();
            var pipeline = System.Management.Automation.PowerShell.Create();
            pipeline.Runspace = _runspace;
            pipeline.AddScript(DriverScript).AddParameter("Script", _script).AddParameter("Worker", this);
            pipeline.Streams.Warning.DataAdded += (s, e) => _pump.Post(PumpMessageKind.Warning, ((PSDataCollection<WarningRecord>)s!)[e.Index].Message);
            pipeline.Streams.Verbose.DataAdded += (s, e) => _pump.Post(PumpMessageKind.Verbose, ((PSDataCollection<VerboseRecord>)s!)[e.Index].Message);
            pipeline.Streams.Debug.DataAdded += (s, e) => _pump.Post(PumpMessageKind.Debug, ((PSDataCollection<DebugRecord>)s!)[e.Index].Message);
            pipeline.Streams.Information.DataAdded += (s, e) => _pump.Post(PumpMessageKind.Information, ((PSDataCollection<InformationRecord>)s!)[e.Index]);
            _pipeline = pipeline;

            // PowerShell requires real input and output collections here (null throws); the driver writes
            // no output of its own, each item's output goes to its ScriptWork.
            var input = new PSDataCollection<object>();
            input.Complete();
            pipeline.BeginInvoke(input, new PSDataCollection<PSObject>(), null, OnDriverEnded, pipeline);
        }
    }

    /// <summary>
    /// Called by the driver script on its pipeline thread: runs items until the pool closes or this driver
    /// is stopped. Each item runs in its own try/catch, so one item's terminating error never ends the loop;
    /// a pipeline stop (timeout, forced stop) does end it, and the driver is started again.
    /// </summary>
    public void Run(ScriptBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        while (Next() is { } work)
        {
            Collection<PSObject>? output;
            try
            {
                output = block.InvokeWithContext(null, work.Variables, work.Arguments);
            }
            catch (PipelineStoppedException)
            {
                throw;
            }
            catch (RuntimeException error)
            {
                work.Fail(error.ErrorRecord, _retry);
                continue;
            }
            catch (FlowControlException)
            {
                // break or continue outside a loop ends this item (as in ForEach-Object), not the worker.
                output = null;
            }

            work.Complete(output);
        }
    }

    /// <summary>
    /// Called by the driver: waits for the next item and marks it begun on this worker; null when the pool
    /// closes or this driver is being stopped.
    /// </summary>
    internal ScriptWork? Next()
    {
        CancellationToken stop;
        lock (_lock)
        {
            stop = _driverStop.Token;
        }

        var handed = Interlocked.Exchange(ref _next, null);
        if (handed is not null)
        {
            if (!stop.IsCancellationRequested && handed.Begin(this))
            {
                return handed;
            }

            if (stop.IsCancellationRequested && !_queue.TryAdd(handed))
            {
                // This driver is being stopped and the pool is closing: nothing will run the item.
                handed.Cancel(CancellationToken.None);
            }
        }

        while (_queue.Take(stop) is { } work)
        {
            if (work.Begin(this))
            {
                return work;
            }
        }

        return null;
    }

    /// <summary>
    /// While a driver completes an item on its own thread, the engine's continuation runs inline and asks
    /// for the next item: <see cref="TryTakeDirect"/> then gives it to this same driver, with no other
    /// thread woken. Dispose the result to end the window.
    /// </summary>
    internal static HandBack HandBackTo(ScriptWorker? worker)
    {
        var previous = t_handingBack;
        t_handingBack = worker;
        return new HandBack(previous);
    }

    /// <summary>Gives <paramref name="work"/> straight to the driver finishing an item on this thread, if any.</summary>
    internal static bool TryTakeDirect(ScriptWork work)
    {
        var worker = t_handingBack;
        if (worker is null || Volatile.Read(ref worker._next) is not null || worker._disposed)
        {
            return false;
        }

        t_handingBack = null;
        Volatile.Write(ref worker._next, work);
        return true;
    }

    internal readonly struct HandBack(ScriptWorker? previous) : IDisposable
    {
        public void Dispose() => t_handingBack = previous;
    }

    internal void Took(ScriptWork work) => Volatile.Write(ref _current, work);

    internal void Finished(ScriptWork work) => Interlocked.CompareExchange(ref _current, null, work);

    /// <summary>Stops the invocation of <paramref name="work"/> (timeout or forced stop) if it is still running here; the driver then restarts.</summary>
    internal void Stop(ScriptWork work)
    {
        lock (_lock)
        {
            if (ReferenceEquals(Volatile.Read(ref _current), work))
            {
                _driverStop.Cancel();
                _pipeline?.BeginStop(null, null);
            }
        }
    }

    private void OnDriverEnded(IAsyncResult result)
    {
        var pipeline = (System.Management.Automation.PowerShell)result.AsyncState!;
        try
        {
            pipeline.EndInvoke(result);
        }
        catch (Exception)
        {
            // Stopped (timeout, forced stop) or broken: the item in flight was already settled by the
            // engine's cancellation; start a fresh driver below unless the pool is closing.
        }

        pipeline.Dispose();
        Interlocked.Exchange(ref _current, null)?.Abort();
        bool restart;
        lock (_lock)
        {
            restart = !_disposed && !_queue.IsCompleted;
        }

        // An item handed to this driver but not begun goes back to the shared queue for any driver.
        if (!restart && Interlocked.Exchange(ref _next, null) is { } handed)
        {
            handed.Cancel(CancellationToken.None);
        }

        if (restart)
        {
            Start();
        }
        else
        {
            _ended.TrySetResult();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _driverStop.Cancel();
            _pipeline?.BeginStop(null, null);
        }
    }
}
