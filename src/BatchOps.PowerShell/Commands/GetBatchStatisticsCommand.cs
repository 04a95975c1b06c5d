using System.Management.Automation;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Completion;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets statistics over all jobs in the store (by status and tag, active and recent jobs, durations, items per second), or per stage of one job (-Id).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "BatchStatistics")]
[OutputType(typeof(BatchStatistics), typeof(BatchStageStatistics))]
public sealed class GetBatchStatisticsCommand : BatchCmdlet
{
    private bool _perJob;

    /// <summary>
    /// <para type="description">Jobs (ids or names) to report per stage instead of the store's totals: counts, duration and items per second of each
    /// stage, read from counts the store keeps (a lookup, whatever a stage holds). A job without stages reports one, named "". Binds the Id of piped jobs.</para>
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(JobCompleter))]
    public string[] Id { get; set; } = [];

    /// <summary>
    /// <para type="description">With -Id: only these stages (names, wildcards allowed). A name without wildcards that matches no stage is an error.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Stage { get; set; }

    protected override void BeginProcessing()
    {
        if (Stage is not null && !MyInvocation.BoundParameters.ContainsKey(nameof(Id)) && !MyInvocation.ExpectingInput)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("-Stage needs -Id: stages belong to one job (Get-BatchStatistics -Id JOB -Stage NAME, or pipe the job in)."),
                "BatchOps.StageNeedsJob", ErrorCategory.InvalidArgument, Stage));
        }
    }

    protected override void ProcessRecord()
    {
        _perJob |= Id.Length > 0;
        foreach (var id in Id)
        {
            if (FindJob(id) is not { } job)
            {
                continue;
            }

            var stages = StageStatistics.ReadAsync(JobStore, job).GetAwaiter().GetResult();
            var patterns = (Stage ?? []).Select(s => new WildcardPattern(s, WildcardOptions.IgnoreCase)).ToArray();
            foreach (var name in (Stage ?? []).Where(s => !WildcardPattern.ContainsWildcardCharacters(s) && !stages.Any(t => string.Equals(t.Stage, s, StringComparison.OrdinalIgnoreCase))))
            {
                WriteError(new ErrorRecord(
                    new ArgumentException($"Job '{TerminalText.Escape(job.Name)}' ({job.Id}) has no stage '{TerminalText.Escape(name)}'." +
                        (job.Stages is null ? " It has no stages." : $" Its stages: {TerminalText.Escape(string.Join(", ", job.Stages.Select(s => s.Name)))}.")),
                    "BatchOps.StageNotFound", ErrorCategory.ObjectNotFound, name));
            }

            foreach (var stage in stages.Where(s => patterns.Length == 0 || patterns.Any(p => p.IsMatch(s.Stage))))
            {
                WriteObject(OutputViews.View(stage));
            }
        }
    }

    protected override void EndProcessing()
    {
        if (!_perJob && !MyInvocation.ExpectingInput)
        {
            WriteObject(OutputViews.View(JobStore.GetStatisticsAsync().GetAwaiter().GetResult(), JobStore.Location));
        }
    }
}
