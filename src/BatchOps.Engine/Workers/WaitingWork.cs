using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Workers;

/// <summary>
/// A queued job that no running worker takes on: chunks of a kind that no Idle or Busy worker runs (a job
/// with PowerShell script-block stages and only batchops workers), or a job that rolls back on failure,
/// whose chunks are all recorded, and that no running worker can end because none runs every undo kind
/// it may need (the worker that ends such a job runs its rollback).
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="JobName">Its name.</param>
/// <param name="Kinds">The kinds a worker must run: the chunks' kind, or every undo kind of the job (one worker runs them all).</param>
/// <param name="Chunks">Chunks that wait to be claimed; 0 for a job that waits to be ended.</param>
public sealed record WaitingWork(string JobId, string JobName, IReadOnlyList<string> Kinds, long Chunks)
{
    /// <summary>One line naming the job, what waits, and which worker takes it.</summary>
    public string Message
    {
        get
        {
            var kinds = string.Join(", ", Kinds);
            var what = Chunks > 0
                ? $"{Chunks} chunk(s) of kind {kinds} wait for a worker that runs {kinds}; none running does"
                : $"its chunks are recorded, and ending it may roll it back, which one worker running every undo kind ({kinds}) does; none running does";
            var start = Kinds.Contains(ScriptOperationSpec.Kind, StringComparer.Ordinal)
                ? "Start-BatchWorker in PowerShell runs every kind"
                : $"Start one with: batchops worker --kinds {string.Join(',', Kinds)}, or Start-BatchWorker";
            return $"Job '{JobName}' ({JobId}): {what}. {start}.";
        }
    }

    /// <summary>
    /// The queued jobs (only <paramref name="jobId"/> when given) that wait for a worker none of
    /// <paramref name="workers"/> is (as <see cref="IWorkQueue.ListWorkersAsync"/> lists them), oldest first.
    /// </summary>
    public static async Task<IReadOnlyList<WaitingWork>> FindAsync(IWorkQueue queue, IJobStore store, IReadOnlyList<WorkerInfo> workers, string? jobId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(workers);
        var running = workers.Where(w => w.State is WorkerState.Idle or WorkerState.Busy).Select(w => w.Kinds).ToList();
        if (running.Count == 0)
        {
            // Nothing runs at all: the list of workers says so, once, rather than a line per job.
            return [];
        }

        var served = running.SelectMany(k => k).ToHashSet(StringComparer.Ordinal);
        var waiting = (await queue.ListOpenWorkAsync(jobId, cancellationToken).ConfigureAwait(false))
            .Where(o => !served.Contains(o.Kind))
            .Select(o => new WaitingWork(o.JobId, o.JobName, [o.Kind], o.Chunks))
            .ToList();
        foreach (var stalled in await queue.StalledJobsAsync(cancellationToken).ConfigureAwait(false))
        {
            if ((jobId is null || stalled == jobId) && await store.GetJobAsync(stalled, cancellationToken).ConfigureAwait(false) is { Settings.OnFailure: FailureAction.Rollback } job
                && UndoKinds(job) is { Count: > 0 } undoKinds && !running.Any(kinds => undoKinds.All(k => kinds.Contains(k, StringComparer.Ordinal))))
            {
                waiting.Add(new WaitingWork(job.Id, job.Name, undoKinds, 0));
            }
        }

        return waiting;
    }

    /// <summary>Every undo kind of the job's stages (of the job itself without stages), each once.</summary>
    public static IReadOnlyList<string> UndoKinds(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return [.. job.Plan.Where(s => s.Undo is not null).Select(s => s.Undo!.OperationKind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }
}
