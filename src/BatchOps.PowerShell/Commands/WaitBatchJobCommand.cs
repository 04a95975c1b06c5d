using System.Diagnostics;
using System.Management.Automation;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Waits until jobs running in other sessions or processes finish, showing their progress.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "BatchJob")]
[OutputType(typeof(BatchJob))]
public sealed class WaitBatchJobCommand : JobIdCmdlet
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Most seconds to wait; the default waits for ever. When it passes, the job is output as it stands and an error is written.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    protected override void ProcessRecord()
    {
        var clock = Stopwatch.StartNew();
        foreach (var id in Id)
        {
            if (FindJob(id) is not { } job)
            {
                continue;
            }

            // The wait blocks this (the pipeline) thread, so progress records are written from it.
            var remaining = Timeout < 0 ? (TimeSpan?)null : TimeSpan.FromSeconds(Timeout) - clock.Elapsed;
            job = JobControl.Wait(JobStore, job, remaining, WriteProgressOf, cancellationToken: _stop.Token);
            if (job.Status == Engine.Jobs.JobStatus.Running && !_stop.IsCancellationRequested)
            {
                WriteError(new ErrorRecord(new TimeoutException($"Job '{job.Name}' ({job.Id}) was still running after {Timeout} s."), "BatchOps.WaitTimedOut", ErrorCategory.OperationTimeout, job.Id));
            }

            WriteObject(OutputViews.View(job, JobStore.Location));
        }
    }

    protected override void StopProcessing() => _stop.Cancel();

    private void WriteProgressOf(JobRecord job)
    {
        var view = Engine.Hosting.ProgressView.ForJob(job, DateTimeOffset.UtcNow);
        WriteProgress(new ProgressRecord(view.ActivityId, view.Activity, view.StatusDescription) { PercentComplete = view.PercentComplete });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Dispose();
        }

        base.Dispose(disposing);
    }
}
