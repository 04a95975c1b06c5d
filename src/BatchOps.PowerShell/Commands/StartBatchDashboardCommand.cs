using System.Management.Automation;
using BatchOps.PowerShell.Dashboard;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts the web dashboard and REST API over the job store, in a process of its own, and returns where it listens.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "BatchDashboard")]
[OutputType(typeof(BatchDashboard))]
public sealed class StartBatchDashboardCommand : BatchCmdlet
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The default port, the same as batchops serve's.</summary>
    public const int DefaultPort = 5178;

    /// <summary>Port on 127.0.0.1; 0 picks any free port.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = DefaultPort;

    /// <summary>Require 'Authorization: Bearer TOKEN' on every request.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Token { get; set; }

    /// <summary>Refuse every request that would change a job.</summary>
    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    protected override void EndProcessing()
    {
        // Opening the store first reports an unusable folder the way every cmdlet does, before a process starts.
        _ = JobStore;
        try
        {
            var (process, url) = DashboardServer.Start(Port, Target.ForCommandLine, Token, ReadOnly, _stopping.Token);
            WriteObject(new BatchDashboard
            {
                Url = url.EndsWith('/') ? url : url + "/",
                ProcessId = process.Id,
                Store = Target.Reference is null ? StoreFolder : JobStore.Location,
                ReadOnly = ReadOnly,
                TokenRequired = Token is not null,
                StartedAt = DateTimeOffset.Now,
            });
        }
        catch (DashboardException error)
        {
            ThrowTerminatingError(new ErrorRecord(error, "BatchOps.DashboardUnavailable", ErrorCategory.NotInstalled, Port));
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C while the server was starting: it was ended, nothing is left running.
        }
    }

    /// <summary>Ctrl+C: stop waiting for the server and end it.</summary>
    protected override void StopProcessing() => _stopping.Cancel();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stopping.Dispose();
        }

        base.Dispose(disposing);
    }
}
