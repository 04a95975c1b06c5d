using System.Management.Automation;
using BatchOps.Engine.Workers;
using BatchOps.Operations;
using BatchOps.PowerShell.Completion;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the workers of a PostgreSQL job store: on which host, Idle, Busy, Stopping or Missing, what they hold.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "BatchWorker")]
[OutputType(typeof(BatchWorker))]
public sealed class GetBatchWorkerCommand : BatchCmdlet
{
    /// <summary>Worker names; * and ? wildcards allowed.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(WorkerCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only workers in these states.</summary>
    [Parameter]
    public BatchWorkerState[]? State { get; set; }

    protected override void ProcessRecord()
    {
        var queue = WorkQueue();
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        var workers = queue.ListWorkersAsync().GetAwaiter().GetResult();
        foreach (var worker in workers)
        {
            var state = OutputViews.View(worker.State);
            if ((patterns is null || patterns.Any(p => p.IsMatch(worker.Name))) && (State is not { Length: > 0 } || State.Contains(state)))
            {
                WriteObject(OutputViews.View(worker, JobStore.Location));
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

        // Queued jobs that none of the running workers takes (a kind none runs): a warning each, as batchops workers says it.
        foreach (var waiting in WaitingWork.FindAsync(queue, JobStore, workers).GetAwaiter().GetResult())
        {
            WriteWarning(TerminalText.Escape(waiting.Message));
        }
    }
}
