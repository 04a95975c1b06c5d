using System.Management.Automation;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets statistics over all jobs in the store: by status and tag, active and recent jobs, durations, items per second.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "BatchStatistics")]
[OutputType(typeof(BatchStatistics))]
public sealed class GetBatchStatisticsCommand : BatchCmdlet
{
    protected override void EndProcessing() => WriteObject(OutputViews.View(JobStore.GetStatisticsAsync().GetAwaiter().GetResult(), JobStore.Location));
}
