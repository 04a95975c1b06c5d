using System.Management.Automation;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Completion;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Deletes stored jobs with their items, history and log: by id or name, or every job that ended longer ago than -OlderThan.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "BatchJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet)]
[OutputType(typeof(void))]
public sealed class RemoveBatchJobCommand : BatchCmdlet
{
    private const string IdSet = "Id";
    private const string AgeSet = "Age";

    /// <summary>Job ids or names; binds the Id of piped BatchJob objects and the JobId of piped BatchItemResult objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet, HelpMessage = "Id or name of the job (the newest job with that name).")]
    [Alias("JobId")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(JobCompleter))]
    public string[] Id { get; set; } = [];

    /// <summary>Every job that ended longer ago than this (never one that runs, is queued for workers, or rolls back).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AgeSet, HelpMessage = "How long ago a job must have ended to be removed, for example (New-TimeSpan -Days 30).")]
    public TimeSpan OlderThan { get; set; }

    /// <summary>With -OlderThan: only jobs that ended in these statuses (default every ending).</summary>
    [Parameter(ParameterSetName = AgeSet)]
    [ValidateSet("Completed", "CompletedWithErrors", "Failed", "Cancelled", "Interrupted", "RolledBack", "RollbackFailed")]
    public string[]? Status { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AgeSet)
        {
            RemoveOld();
            return;
        }

        foreach (var id in Id)
        {
            if (FindJob(id) is not { } job)
            {
                continue;
            }

            if (job.Status != Engine.Jobs.JobStatus.Running && !ShouldProcess($"job '{job.Name}' ({job.Id}) with {job.Counts.Total} item(s)", "Remove"))
            {
                continue;
            }

            if (!Engine.Jobs.JobControl.RemoveAsync(JobStore, job, StoreLocation.LogFolder(StoreFolder)).GetAwaiter().GetResult())
            {
                WriteError(new ErrorRecord(
                    new InvalidOperationException($"Job '{job.Name}' ({job.Id}) is running in process {job.Lease?.ProcessId} on {job.Lease?.Host}; stop it first with Stop-BatchJob."),
                    Engine.Hosting.ErrorRecordInfo.JobBusyId, ErrorCategory.ResourceBusy, job.Id));
            }
        }
    }

    /// <summary>-OlderThan: what would go (each job a What if / Confirm line with its items and bytes), then the removal and the space given back.</summary>
    private void RemoveOld()
    {
        var now = DateTimeOffset.UtcNow;
        var statuses = Status?.Select(Enum.Parse<Engine.Jobs.JobStatus>).ToArray();
        var candidates = OrStoreError(() => Prune.FindAsync(JobStore, OlderThan, statuses, now).GetAwaiter().GetResult());
        var chosen = candidates.Where(c => ShouldProcess(
            Operations.TerminalText.Escape($"job '{c.Job.Name}' ({c.Job.Id}), {c.Job.Status}, ended {(c.Job.EndedAt ?? c.Job.CreatedAt).ToLocalTime():yyyy-MM-dd HH:mm}: {c.Job.Counts.Total:N0} item(s), about {c.Bytes:N0} bytes"),
            "Remove")).ToList();
        if (chosen.Count == 0)
        {
            WriteVerbose(candidates.Count == 0 ? $"No job ended more than {OlderThan} ago; nothing to remove." : "Nothing was removed.");
            return;
        }

        var result = OrStoreError(() => Prune.RemoveAsync(JobStore, chosen, OlderThan, now, StopToken, StoreLocation.LogFolder(StoreFolder)).GetAwaiter().GetResult());
        foreach (var (job, reason) in result.Left)
        {
            WriteWarning(Operations.TerminalText.Escape($"Left job '{job.Name}' ({job.Id}): {reason}."));
        }

        WriteVerbose($"Removed {result.Removed.Count} job(s), {result.Items:N0} item(s), about {result.Bytes:N0} bytes; the store went from {result.SizeBefore:N0} to {result.SizeAfter:N0} bytes.");
    }
}
