using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Deletes stored jobs with their items, history and log.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "BatchJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveBatchJobCommand : JobIdCmdlet
{
    protected override void ProcessRecord()
    {
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

            if (!JobControl.RemoveAsync(JobStore, job, StoreLocation.LogFolder(StoreFolder)).GetAwaiter().GetResult())
            {
                WriteError(new ErrorRecord(
                    new InvalidOperationException($"Job '{job.Name}' ({job.Id}) is running in process {job.Lease?.ProcessId} on {job.Lease?.Host}; stop it first with Stop-BatchJob."),
                    Engine.Hosting.ErrorRecordInfo.JobBusyId, ErrorCategory.ResourceBusy, job.Id));
            }
        }
    }
}
