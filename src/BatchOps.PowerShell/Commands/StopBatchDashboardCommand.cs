using System.Management.Automation;
using BatchOps.PowerShell.Dashboard;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Stops a dashboard started by Start-BatchDashboard (or a batchops serve process).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "BatchDashboard", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class StopBatchDashboardCommand : PSCmdlet
{
    /// <summary>The server's process id; a BatchDashboard from Start-BatchDashboard binds by its ProcessId.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Process id of the dashboard server (the ProcessId that Start-BatchDashboard returned).")]
    [ValidateRange(1, int.MaxValue)]
    public int[] ProcessId { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var id in ProcessId)
        {
            if (!DashboardServer.IsDashboard(id))
            {
                WriteError(new ErrorRecord(
                    new InvalidOperationException($"Process {id} is not a BatchOps dashboard (neither started by Start-BatchDashboard in this session nor a running 'batchops serve'); nothing was stopped. Use Stop-Process for other processes."),
                    "BatchOps.NotADashboard", ErrorCategory.InvalidArgument, id));
                continue;
            }

            if (ShouldProcess($"dashboard process {id}", "Stop"))
            {
                DashboardServer.Stop(id);
            }
        }
    }
}
