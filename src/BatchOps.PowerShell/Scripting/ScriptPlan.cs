using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Commands;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// The script blocks of a stored job beyond its one forward block: each stage's block (-Stage) and each undo
/// block (-UndoScriptBlock), every one on a worker pool of its own, opened the first time the run needs it
/// (a rollback that never happens opens no undo runspaces) with its stage's throttle, and closed with the run.
/// With <paramref name="callerRunspace"/> every block runs in the caller's runspace instead, one item at a
/// time on the pipeline thread (-UseCallerRunspace: Pester mocks reach them).
/// </summary>
internal sealed class ScriptPlan(JobRecord job, JobSettings? overrides, PipelinePump pump, IReadOnlyDictionary<string, object> preferences, Func<string> jobId, bool callerRunspace = false) : IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<(string Stage, bool Undo), ScriptWorkerPool> _pools = [];
    private bool _disposed;

    /// <summary>A stage's forward operation.</summary>
    public BatchOperation<object?, object?> Forward(JobStage stage) =>
        Pool(stage, undo: false).ToOperation(jobId, StageName(stage));

    /// <summary>A stage's undo operation (the job's, for a job without stages).</summary>
    public BatchOperation<Compensation<object?, object?>, object?> Undo(JobStage stage) =>
        Pool(stage, undo: true).ToUndoOperation(jobId, StageName(stage));

    private string? StageName(JobStage stage) => job.Stages is null ? null : stage.Name;

    private ScriptWorkerPool Pool(JobStage stage, bool undo)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_pools.TryGetValue((stage.Name, undo), out var pool))
            {
                var definition = undo ? stage.Undo?.Operation ?? throw new InvalidOperationException($"Stage '{stage.Name}' has no undo script block.") : stage.Operation;
                var spec = JobRunSession.SpecOf(job with { OperationKind = undo ? stage.Undo!.OperationKind : stage.OperationKind, Operation = definition });
                var settings = stage.Settings.Over(job.Settings);
                if (undo)
                {
                    settings = stage.Undo!.Settings.Over(settings);
                }

                var throttle = (overrides?.Over(settings) ?? settings).ToOptions().ThrottleLimit;
                _pools[(stage.Name, undo)] = pool = callerRunspace ? ScriptWorkerPool.ForCallerRunspace(spec, pump) : ScriptWorkerPool.Open(spec, throttle, pump, preferences);
            }

            return pool;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var pool in _pools.Values)
            {
                pool.Dispose();
            }

            _pools.Clear();
        }
    }
}
