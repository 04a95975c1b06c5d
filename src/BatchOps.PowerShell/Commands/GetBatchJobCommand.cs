using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Completion;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets stored batch jobs, newest first, by name (wildcards), id, status, tag or age.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "BatchJob", DefaultParameterSetName = NameSet)]
[OutputType(typeof(BatchJob))]
public sealed class GetBatchJobCommand : BatchCmdlet
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";

    /// <summary>Job names; * and ? wildcards allowed.</summary>
    [Parameter(ParameterSetName = NameSet, Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(JobCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Exact job ids.</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Exact id of the job.")]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobCompleter))]
    public string[] Id { get; set; } = [];

    /// <summary>Only jobs in these statuses (Interrupted: Running jobs whose process is gone).</summary>
    [Parameter]
    public JobStatus[]? Status { get; set; }

    /// <summary>Only jobs with this tag.</summary>
    [Parameter]
    public string? Tag { get; set; }

    /// <summary>Only the newest N jobs.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Newest { get; set; }

    /// <summary>Only jobs created at or after this time.</summary>
    [Parameter]
    public DateTime Since { get; set; }

    protected override void ProcessRecord()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var query in Queries())
        {
            foreach (var job in JobStore.FindJobsAsync(query).GetAwaiter().GetResult())
            {
                if (seen.Add(job.Id))
                {
                    var view = OutputViews.View(job, JobStore.Location);
                    if (job.Notify is not null)
                    {
                        view.Notices = [.. Engine.Notifications.Notices.Summaries(job, JobStore.GetNoticesAsync(job.Id).GetAwaiter().GetResult()).Select(Operations.TerminalText.Escape)];
                    }

                    WriteObject(view);
                }
            }
        }
    }

    private IEnumerable<JobQuery> Queries()
    {
        var common = new JobQuery
        {
            Statuses = Status?.Select(OutputViews.ToEngine).ToArray(),
            Tag = Tag,
            Newest = MyInvocation.BoundParameters.ContainsKey(nameof(Newest)) ? Newest : null,
            Since = MyInvocation.BoundParameters.ContainsKey(nameof(Since)) ? new DateTimeOffset(Since) : null,
        };
        if (ParameterSetName == IdSet)
        {
            return Id.Select(id => common with { Id = id });
        }

        return Name is { Length: > 0 } names ? names.Select(name => common with { Name = name }) : [common];
    }
}
