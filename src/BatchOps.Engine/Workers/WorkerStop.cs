namespace BatchOps.Engine.Workers;

/// <summary>Asking workers to stop from any host, as batchops workers stop and Stop-BatchWorker do it.</summary>
public static class WorkerStop
{
    /// <summary>
    /// Asks the running ones of <paramref name="workers"/> to stop (a Missing worker cannot hear it and is not
    /// asked) and returns them as the store lists them now: Stopping, or already gone from the list when none is left.
    /// </summary>
    public static async Task<IReadOnlyList<WorkerInfo>> AskAsync(IWorkQueue queue, IEnumerable<WorkerInfo> workers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(workers);
        var running = workers.Where(w => w.State != WorkerState.Missing).Select(w => w.Id).Distinct(StringComparer.Ordinal).ToList();
        if (running.Count == 0)
        {
            return [];
        }

        var asked = (await queue.AskWorkersToStopAsync(running, cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        return [.. (await queue.ListWorkersAsync(cancellationToken).ConfigureAwait(false)).Where(w => asked.Contains(w.Id))];
    }

    /// <summary>Why a Missing worker is left alone.</summary>
    public static string MissingMessage(WorkerInfo worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return $"worker '{worker.Name}' (host {worker.Host}, process {worker.ProcessId}) is Missing, not seen since {worker.SeenAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}: there is nothing to stop; its chunks pass to other workers when their leases run out.";
    }
}
