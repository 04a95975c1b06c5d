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
    BatchOperation<object?, object?> Operation,
    IPayloadCodec<object?> InputCodec,
    IPayloadCodec<object?> OutputCodec,
    IDisposable Resources)
{
    /// <summary>The input as results show it (the piped object rather than its stored form).</summary>
    public Func<object?, object?> InputView { get; init; } = static input => input;

    /// <summary>A script-block run on a worker pool: inputs and outputs stored as CliXml; <paramref name="jobId"/> names the job once it exists.</summary>
    public static RunOperation Script(ScriptWorkerPool pool, Func<string> jobId) => new(pool.ToOperation(jobId), CliXmlCodec.Instance, CliXmlCodec.Instance, pool);

    /// <summary>
    /// The operation of a stored job for a resume or retry: a script block on worker runspaces (or the
    /// caller's, with <paramref name="useCallerRunspace"/> and throttle 1) or a sql table. Throws
    /// <see cref="InvalidOperationException"/> for kinds only <c>batchops</c> runs, and
    /// <see cref="SqlSpecException"/> when the table or its connection no longer fit.
    /// </summary>
    public static RunOperation ForStoredJob(JobRecord job, JobRunSession session, int throttle, bool useCallerRunspace, IReadOnlyDictionary<string, object> preferences)
    {
        if (job.OperationKind == SqlOperation.Kind)
        {
            return SqlRun.FromJob(job).ToRunOperation(() => session.JobId);
        }

        var spec = JobRunSession.SpecOf(job);
        return Script(
            useCallerRunspace && throttle == 1 ? ScriptWorkerPool.ForCallerRunspace(spec, session.Pump) : ScriptWorkerPool.Open(spec, throttle, session.Pump, preferences),
            () => session.JobId);
    }

    /// <summary>Whether the module can run a stored job of this kind.</summary>
    public static bool CanRun(JobRecord job) => job.OperationKind is ScriptOperationSpec.Kind or SqlOperation.Kind;
}
