using System.Management.Automation;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the workers of a PostgreSQL job store: on which host, Idle, Busy or Missing, what they hold.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "BatchWorker")]
[OutputType(typeof(BatchWorker))]
public sealed class GetBatchWorkerCommand : BatchCmdlet
{
    /// <summary>Worker names; * and ? wildcards allowed.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Only workers in these states.</summary>
    [Parameter]
    public BatchWorkerState[]? State { get; set; }

    protected override void ProcessRecord()
    {
        if (JobStore is not IWorkQueue queue)
        {
            ThrowTerminatingError(new ErrorRecord(
                new StoreException($"The job store '{JobStore.Location}' has no workers: it is one machine's SQLite file. Point -Store (or $env:BATCHOPS_STORE) at the PostgreSQL database the workers use: postgresql://user@host/database, or env:NAME."),
                ErrorRecordInfo.StoreErrorId, ErrorCategory.InvalidOperation, JobStore.Location));
            return;
        }

        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        var workers = queue.ListWorkersAsync().GetAwaiter().GetResult();
        foreach (var worker in workers)
        {
            var state = (BatchWorkerState)(int)worker.State;
            if ((patterns is null || patterns.Any(p => p.IsMatch(worker.Name))) && (State is not { Length: > 0 } || State.Contains(state)))
            {
                WriteObject(View(worker, state, JobStore.Location));
            }
        }

        if (patterns is not null)
        {
            foreach (var name in Name!.Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !workers.Any(w => string.Equals(w.Name, n, StringComparison.OrdinalIgnoreCase))))
            {
                WriteError(new ErrorRecord(
                    new ItemNotFoundException($"No worker named '{name}' in {JobStore.Location}. Get-BatchWorker lists the running ones (and for a day the missing ones)."),
                    "BatchOps.WorkerNotFound", ErrorCategory.ObjectNotFound, name));
            }
        }
    }

    private static BatchWorker View(WorkerInfo worker, BatchWorkerState state, string store) => new()
    {
        Name = worker.Name,
        ComputerName = worker.Host,
        ProcessId = worker.ProcessId,
        State = state,
        ChunksHeld = worker.ChunksHeld,
        ChunksRecorded = worker.ChunksRecorded,
        Jobs = [.. worker.Jobs],
        Kinds = [.. worker.Kinds],
        Concurrency = worker.Concurrency,
        Lease = worker.Lease,
        StartedAt = worker.StartedAt,
        LastSeen = worker.SeenAt,
        WorkerId = worker.Id,
        Store = store,
    };
}
