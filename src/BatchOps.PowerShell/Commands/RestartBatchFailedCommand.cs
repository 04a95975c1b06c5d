using System.Management.Automation;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Runs the failed items of a job again (all, or chosen ones); each keeps its earlier error in its history.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "BatchFailed", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BatchItemResult), typeof(BatchBackgroundJob))]
public sealed class RestartBatchFailedCommand : JobIdCmdlet
{
    private readonly Dictionary<string, HashSet<long>?> _wanted = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Only these item indexes; binds the Index of piped BatchItemResult objects.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long[]? Index { get; set; }

    /// <summary>Run in this session's runspace (with -ThrottleLimit 1).</summary>
    [Parameter]
    public SwitchParameter UseCallerRunspace { get; set; }

    /// <summary>
    /// <para type="description">Secret $using: values of the job, by variable name (@{ cred = $cred }): they are never stored, so a session
    /// other than the one that made the job passes them again.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    public System.Collections.Hashtable? UsingValue { get; set; }

    internal override System.Collections.IDictionary? GivenUsingValues => UsingValue;

    /// <summary>
    /// <para type="description">A staged job: retry only this stage's failed items (stages skipped because of it then run too).</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Stage { get; set; }

    /// <summary>Workers for this retry; the default is the job's own setting.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; }

    [Parameter]
    [ValidateRange(0, 100)]
    public int RetryCount { get; set; }

    /// <summary>Runs the retry in the background and outputs a PowerShell job, one per batch job.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    // Piped items are collected first, so each job is retried once with all its chosen items.
    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            if (Index is null)
            {
                _wanted[id] = null;
            }
            else if (!_wanted.TryGetValue(id, out var set) || set is not null)
            {
                _wanted[id] = [.. set ?? [], .. Index];
            }
        }
    }

    protected override void EndProcessing()
    {
        foreach (var (id, indexes) in _wanted)
        {
            if (FindJob(id) is not { } job)
            {
                continue;
            }

            var what = indexes is null ? $"{job.Counts.Failed} failed item(s)" : $"{indexes.Count} chosen failed item(s)";
            if (ShouldProcess($"job '{job.Name}' ({job.Id}), {what}", "Retry"))
            {
                if (AsJob)
                {
                    StartBackgroundJob(job, RunKind.RetryFailed, indexes, BoundSettings.From(BoundValues()), UseCallerRunspace);
                }
                else
                {
                    InvokeBatchJobCommand.RunStoredJob(this, job, RunKind.RetryFailed, indexes, BoundSettings.From(BoundValues()), UseCallerRunspace, Stage);
                }
            }
        }
    }
}
