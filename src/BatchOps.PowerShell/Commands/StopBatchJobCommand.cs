using System.Management.Automation;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Stops a running batch job, in this session or any other process, leaving it resumable.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "BatchJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BatchJob))]
public sealed class StopBatchJobCommand : JobIdCmdlet
{
    /// <summary>Cancel running attempts too, instead of letting them finish.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Output the job.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            if (FindJob(id) is not { } job || !ShouldProcess($"job '{job.Name}' ({job.Id}), {job.Status}", Force ? "Stop (force)" : "Stop"))
            {
                continue;
            }

            var outcome = JobControl.StopAsync(JobStore, job, Force ? StopMode.Forced : StopMode.Graceful).GetAwaiter().GetResult();
            WriteVerbose(outcome switch
            {
                StopOutcome.Requested => $"Asked process {job.Lease?.ProcessId} on {job.Lease?.Host} to stop job {job.Id}; it stops within about a second.",
                StopOutcome.Cancelled => $"Job {job.Id} was {job.Status} and is now Cancelled.",
                _ => $"Job {job.Id} is {job.Status}; nothing to stop.",
            });

            if (PassThru)
            {
                WriteObject(OutputViews.View(JobStore.GetJobAsync(job.Id).GetAwaiter().GetResult()!, JobStore.Location));
            }
        }
    }
}
