using System.Management.Automation;
using BatchOps.Engine.Workers;
using BatchOps.PowerShell.Completion;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Asks workers of a PostgreSQL job store, on any host, to stop: each claims nothing more, finishes the chunks it holds and exits.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "BatchWorker", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByName)]
[OutputType(typeof(BatchWorker))]
public sealed class StopBatchWorkerCommand : BatchCmdlet
{
    private const string ByName = "Name";
    private const string ByObject = "InputObject";
    private readonly CancellationTokenSource _stopWaiting = new();
    private readonly List<(string Id, string Name)> _asked = [];
    private IReadOnlyList<WorkerInfo>? _workers;

    /// <summary>Worker names, as Get-BatchWorker shows them; * and ? wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, HelpMessage = "The names of the workers to stop, as Get-BatchWorker shows them.")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(WorkerCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Workers from Get-BatchWorker.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject, HelpMessage = "Workers from Get-BatchWorker.")]
    public BatchWorker[] InputObject { get; set; } = [];

    /// <summary>Wait until every worker asked has stopped (left the list), instead of returning at once.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Output the workers asked, as the store lists them now (Stopping).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var queue = WorkQueue();
        _workers ??= queue.ListWorkersAsync().GetAwaiter().GetResult();
        if (ParameterSetName == ByObject)
        {
            foreach (var given in InputObject)
            {
                if (_workers.FirstOrDefault(w => w.Id == given.WorkerId) is { } worker)
                {
                    Ask(queue, worker);
                }
                else
                {
                    NotFound(given.Name, $"Worker '{given.Name}' ({given.WorkerId}) is no longer in {JobStore.Location}: it has stopped already.");
                }
            }

            return;
        }

        foreach (var name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            var matched = _workers.Where(w => pattern.IsMatch(w.Name)).ToList();
            if (matched.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                NotFound(name, $"No worker named '{name}' in {JobStore.Location}. Get-BatchWorker lists the running ones.");
            }

            foreach (var worker in matched)
            {
                Ask(queue, worker);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (!Wait || _asked.Count == 0)
        {
            return;
        }

        var queue = WorkQueue();
        var left = _asked.ToDictionary(a => a.Id, a => a.Name, StringComparer.Ordinal);
        try
        {
            while (true)
            {
                var listed = queue.ListWorkersAsync(_stopWaiting.Token).GetAwaiter().GetResult()
                    .Where(w => left.ContainsKey(w.Id) && w.State != WorkerState.Missing).Select(w => w.Id).ToHashSet(StringComparer.Ordinal);
                foreach (var gone in left.Keys.Where(id => !listed.Contains(id)).ToList())
                {
                    WriteVerbose($"Worker '{left[gone]}' has stopped.");
                    left.Remove(gone);
                }

                if (left.Count == 0)
                {
                    return;
                }

                Task.Delay(TimeSpan.FromMilliseconds(250), _stopWaiting.Token).GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (_stopWaiting.IsCancellationRequested)
        {
            // Ctrl+C stops the waiting, not the workers: they were asked already and go on stopping.
        }
    }

    protected override void StopProcessing()
    {
        _stopWaiting.Cancel();
        base.StopProcessing();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stopWaiting.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Ask(IWorkQueue queue, WorkerInfo worker)
    {
        if (worker.State == WorkerState.Missing)
        {
            WriteWarning(WorkerStop.MissingMessage(worker));
            return;
        }

        if (_asked.Any(a => a.Id == worker.Id) ||
            !ShouldProcess($"worker '{worker.Name}' (host {worker.Host}, process {worker.ProcessId}), {worker.State}, holding {worker.ChunksHeld} chunk(s)", "Stop"))
        {
            return;
        }

        if (WorkerStop.AskAsync(queue, [worker]).GetAwaiter().GetResult() is not [var now])
        {
            NotFound(worker.Name, $"Worker '{worker.Name}' stopped before it could be asked.");
            return;
        }

        _asked.Add((worker.Id, worker.Name));
        WriteVerbose($"Asked worker '{worker.Name}' (host {worker.Host}, process {worker.ProcessId}) to stop: it hears it within a few seconds, finishes the {now.ChunksHeld} chunk(s) it holds and exits.");
        if (PassThru)
        {
            WriteObject(OutputViews.View(now, JobStore.Location));
        }
    }

    private void NotFound(string name, string message) => WriteError(new ErrorRecord(
        new ItemNotFoundException(message), "BatchOps.WorkerNotFound", ErrorCategory.ObjectNotFound, name));
}
