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

    /// <summary>
    /// The token every API request needs; by default a random one is made. The page gets it from the Url this
    /// cmdlet returns (and keeps it as a cookie); API clients send 'Authorization: Bearer TOKEN'.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Token { get; set; }

    /// <summary>Serve without a token: any program or user on this machine can then read and change jobs through it.</summary>
    [Parameter]
    public SwitchParameter NoToken { get; set; }

    /// <summary>Refuse every request that would change a job.</summary>
    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    protected override void EndProcessing()
    {
        // Opening the store first reports an unusable folder the way every cmdlet does, before a process starts.
        _ = JobStore;
        if (NoToken && Token is not null)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-NoToken and -Token contradict each other; use one."), "BatchOps.TokenConflict", ErrorCategory.InvalidArgument, Token));
        }

        var token = NoToken ? null : Token ?? DashboardServer.NewToken();
        try
        {
            var (process, url) = DashboardServer.Start(Port, Target.ForCommandLine, token, ReadOnly, _stopping.Token);
            var root = url.EndsWith('/') ? url : url + "/";
            if (NoToken)
            {
                WriteWarning("The dashboard has no token: any program or user on this machine can read every job and change jobs through it.");
            }

            WriteObject(new BatchDashboard
            {
                Url = token is null ? root : $"{root}?token={Uri.EscapeDataString(token)}",
                ProcessId = process.Id,
                Store = Target.Reference is null ? StoreFolder : JobStore.Location,
                ReadOnly = ReadOnly,
                TokenRequired = token is not null,
                Token = token is null ? null : Secure(token),
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

    private static System.Security.SecureString Secure(string text)
    {
        var secure = new System.Security.SecureString();
        foreach (var c in text)
        {
            secure.AppendChar(c);
        }

        secure.MakeReadOnly();
        return secure;
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
