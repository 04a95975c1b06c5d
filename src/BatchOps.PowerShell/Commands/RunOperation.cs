using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Scripting;
using BatchOps.PowerShell.Tables;
using BatchOps.Sql;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// What a cmdlet run executes: the engine operation, how its inputs and outputs are stored, how a
/// reported input is shown to the user, and what to free when the run is over.
/// </summary>
internal sealed record RunOperation(
    BatchOperation<object?, object?>? Operation,
    IPayloadCodec<object?> InputCodec,
    IPayloadCodec<object?> OutputCodec,
    IDisposable Resources)
{
    /// <summary>Each stage's operation, for a staged job.</summary>
    public Func<JobStage, BatchOperation<object?, object?>>? StageOperation { get; init; }

    /// <summary>Each stage's undo operation (the job's, without stages), for a rollback or Undo-BatchJob.</summary>
    public Func<JobStage, BatchOperation<Compensation<object?, object?>, object?>>? Undo { get; init; }

    /// <summary>The input as results show it (the piped object rather than its stored form).</summary>
    public Func<object?, object?> InputView { get; init; } = static input => input;

    /// <summary>A script-block run on a worker pool: inputs and outputs stored as CliXml; <paramref name="jobId"/> names the job once it exists.</summary>
    public static RunOperation Script(ScriptWorkerPool pool, Func<string> jobId) => new(pool.ToOperation(jobId), CliXmlCodec.Instance, CliXmlCodec.Instance, pool);

    /// <summary>
    /// The operation of a stored job for a resume or retry: a script block on worker runspaces (or the
    /// caller's, with <paramref name="useCallerRunspace"/>: the caller runs the job at throttle 1) or a sql table. Throws
    /// <see cref="InvalidOperationException"/> for kinds only <c>batchops</c> runs, and
    /// <see cref="SqlSpecException"/> when the table or its connection no longer fit.
    /// </summary>
    public static RunOperation ForStoredJob(JobRecord job, JobRunSession session, int throttle, bool useCallerRunspace, IReadOnlyDictionary<string, object> preferences, JobSettings? overrides = null) =>
        ForStoredJob(job, session.Pump, () => session.JobId, throttle, useCallerRunspace, preferences, overrides);

    /// <summary>The operation of a stored job whose workers post to <paramref name="pump"/> (a worker's, say).</summary>
    public static RunOperation ForStoredJob(JobRecord job, PipelinePump pump, Func<string> jobId, int throttle, bool useCallerRunspace, IReadOnlyDictionary<string, object> preferences, JobSettings? overrides = null)
    {
        if (job.OperationKind == SqlOperation.Kind)
        {
            return SqlRun.FromJob(job).ToRunOperation(jobId);
        }

        if (SpecRun.IsSpecJob(job))
        {
            return SpecRun.FromJob(job);
        }

        var plan = new ScriptPlan(job, overrides, pump, preferences, jobId, useCallerRunspace);
        if (SpecRun.IsMixedJob(job))
        {
            return SpecRun.FromMixedJob(job, plan);
        }

        if (job.Stages is not null)
        {
            // Every stage opens its own workers when it starts; none run in the caller's runspace.
            return new RunOperation(null, CliXmlCodec.Instance, CliXmlCodec.Instance, plan) { StageOperation = plan.Forward, Undo = plan.Undo };
        }

        var spec = JobRunSession.SpecOf(job);
        var pool = useCallerRunspace ? ScriptWorkerPool.ForCallerRunspace(spec, pump) : ScriptWorkerPool.Open(spec, throttle, pump, preferences);
        return new RunOperation(pool.ToOperation(jobId), CliXmlCodec.Instance, CliXmlCodec.Instance, new AllOf(pool, plan)) { Undo = plan.Undo };
    }

    /// <summary>Frees several resources.</summary>
    private sealed class AllOf(params IDisposable[] all) : IDisposable
    {
        public void Dispose()
        {
            foreach (var one in all)
            {
                one.Dispose();
            }
        }
    }

    /// <summary>This operation with the undo blocks of <paramref name="plan"/>, which is freed with the run.</summary>
    public RunOperation WithUndo(ScriptPlan plan) => this with { Undo = plan.Undo, Resources = new AllOf(Resources, plan) };

    /// <summary>Whether the module can run a stored job of this kind.</summary>
    public static bool CanRun(JobRecord job) => job.OperationKind is ScriptOperationSpec.Kind or SqlOperation.Kind || job.Stages?.All(s => s.OperationKind == ScriptOperationSpec.Kind) == true || SpecRun.IsSpecJob(job) || SpecRun.IsMixedJob(job);
}
