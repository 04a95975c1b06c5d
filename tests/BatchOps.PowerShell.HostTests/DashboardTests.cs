using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// Start-BatchDashboard and Stop-BatchDashboard as a user runs them: the packaged server started with the
/// machine's dotnet over the session's store, answering on a real loopback port, and stopped again. The
/// tests that choose the dotnet through BATCHOPS_DOTNET (a process-wide variable) live in this class only,
/// and a class's tests run one at a time.
/// </summary>
public sealed class DashboardTests : IDisposable
{
    private readonly PsSession _session = new();
    private readonly List<int> _servers = [];

    public void Dispose()
    {
        foreach (var id in _servers)
        {
            try
            {
                using var process = Process.GetProcessById(id);
                process.Kill();
            }
            catch (ArgumentException)
            {
                // Already stopped, as it should be.
            }
        }

        _session.Dispose();
    }

    [Fact]
    public async Task StartBatchDashboard_ServesTheSessionsStore_AndStopBatchDashboardEndsItGracefully()
    {
        var run = _session.Run("""
            $null = 1..3 | Invoke-BatchJob { $_ * 2 } -Name 'seen-on-the-page'
            Start-BatchDashboard -Port 0
            """).ThrowIfFailed();

        var dashboard = Dashboard.Of(Assert.Single(run.Output));
        _servers.Add(dashboard.ProcessId);
        Assert.Equal("BatchOps.BatchDashboard", run.Output[0].BaseObject.GetType().FullName);
        Assert.Matches("^http://127\\.0\\.0\\.1:[0-9]+/\\?token=[0-9a-f]{64}$", dashboard.Url);
        Assert.Equal(_session.Store, dashboard.Store);
        Assert.True(dashboard.TokenRequired);
        Assert.False(dashboard.ReadOnly);
        var token = _session.Run("$input | ForEach-Object { [System.Net.NetworkCredential]::new('', $_.Token).Password }", [run.Output[0]]).ThrowIfFailed();

        // Its default view lists what a user needs, the token only as a SecureString.
        var listed = string.Concat(_session.Run("$input | Out-String -Width 200", [run.Output[0]]).ThrowIfFailed().Output).Split('\n', StringSplitOptions.TrimEntries);
        Assert.Equal(["Url", "Token", "ProcessId", "Store", "ReadOnly", "TokenRequired", "StartedAt"], listed.Where(l => l.Contains(" : ", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]));
        Assert.Contains("Token         : System.Security.SecureString", listed);
        Assert.EndsWith($"?token={Assert.Single(token.Output).BaseObject}", dashboard.Url, StringComparison.Ordinal);

        // A token by default: the API refuses a request without it; the URL as returned opens the page, which
        // trades the token for a cookie and drops it from the address, and the API answers with the cookie.
        var root = new Uri(dashboard.Url).GetLeftPart(UriPartial.Path);
        using var anonymous = new HttpClient { BaseAddress = new Uri(root), Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/jobs")).StatusCode);
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(root), Timeout = TimeSpan.FromSeconds(30) };
        using var page = await browser.GetAsync(dashboard.Url);
        Assert.Equal(root, page.RequestMessage!.RequestUri!.ToString());
        Assert.Contains("<!doctype html>", (await page.Content.ReadAsStringAsync()).ToLowerInvariant(), StringComparison.Ordinal);
        var jobs = await browser.GetStringAsync("api/jobs");
        Assert.Contains("\"name\":\"seen-on-the-page\"", jobs, StringComparison.Ordinal);

        using var server = Process.GetProcessById(dashboard.ProcessId);
        _session.Run("$input | Stop-BatchDashboard", [run.Output[0]]).ThrowIfFailed();
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(15)), "the server still runs after Stop-BatchDashboard");
    }

    [Fact]
    public async Task StartBatchDashboard_ReadOnlyWithToken_RefusesChangesAndRequestsWithoutTheToken()
    {
        var run = _session.Run("Start-BatchDashboard -Port 0 -ReadOnly -Token 's3cret-token'").ThrowIfFailed();
        var dashboard = Dashboard.Of(Assert.Single(run.Output));
        _servers.Add(dashboard.ProcessId);
        Assert.True(dashboard.ReadOnly && dashboard.TokenRequired);

        using var http = new HttpClient { BaseAddress = new Uri(dashboard.Url), Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/jobs")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret-token");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("api/jobs", new StringContent("{}"))).StatusCode);

        // The token is passed through the environment: no one reading the command line sees it.
        var commandLine = File.ReadAllText($"/proc/{dashboard.ProcessId}/cmdline");
        Assert.DoesNotContain("s3cret-token", commandLine, StringComparison.Ordinal);

        _session.Run($"Stop-BatchDashboard -ProcessId {dashboard.ProcessId}").ThrowIfFailed();
    }

    [Fact]
    public void StartBatchDashboard_PortTaken_FailsNamingThePortAndTheFix()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var run = _session.Run($"Start-BatchDashboard -Port {port}");

        var message = Unavailable(run);
        Assert.Contains($"Port {port} on 127.0.0.1 is taken", message, StringComparison.Ordinal);
        Assert.Contains("-Port 0", message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartBatchDashboard_DotnetWithoutAspNetCore_NamesWhatToInstall()
    {
        // A dotnet that has the .NET runtime but not ASP.NET Core (what a machine with only the runtime reports).
        var fake = Path.Combine(_session.Store, "dotnet");
        File.WriteAllText(fake, "#!/bin/sh\necho 'Microsoft.NETCore.App 10.0.1 [/opt/dotnet/shared/Microsoft.NETCore.App]'\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var run = WithDotnet(fake, () => _session.Run("Start-BatchDashboard -Port 0"));

        var message = Unavailable(run);
        Assert.Contains("needs Microsoft.AspNetCore.App 10.0", message, StringComparison.Ordinal);
        Assert.Contains("none installed", message, StringComparison.Ordinal);
        Assert.Contains("apt-get install aspnetcore-runtime-10.0", message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartBatchDashboard_DotnetVariableNamingNothing_SaysSo()
    {
        var missing = Path.Combine(_session.Store, "no-such-dotnet");

        var run = WithDotnet(missing, () => _session.Run("Start-BatchDashboard -Port 0"));

        Assert.Contains($"BATCHOPS_DOTNET names '{missing}', which does not exist", Unavailable(run), StringComparison.Ordinal);
    }

    [Fact]
    public void StopBatchDashboard_OnAnotherProcess_RefusesAndLeavesItRunning()
    {
        using var other = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        try
        {
            var run = _session.Run($"Stop-BatchDashboard -ProcessId {other.Id}");

            var error = Assert.Single(run.Errors);
            Assert.Equal("BatchOps.NotADashboard,BatchOps.PowerShell.Commands.StopBatchDashboardCommand", error.FullyQualifiedErrorId);
            Assert.Contains($"Process {other.Id} is not a BatchOps dashboard", error.Exception.Message, StringComparison.Ordinal);
            Assert.False(other.WaitForExit(TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            other.Kill();
        }
    }

    /// <summary>A BatchDashboard's properties, read as a script reads them.</summary>
    private sealed record Dashboard(string Url, int ProcessId, string Store, bool ReadOnly, bool TokenRequired)
    {
        public static Dashboard Of(System.Management.Automation.PSObject value) => new(
            (string)value.Properties["Url"].Value, (int)value.Properties["ProcessId"].Value, (string)value.Properties["Store"].Value,
            (bool)value.Properties["ReadOnly"].Value, (bool)value.Properties["TokenRequired"].Value);
    }

    /// <summary>The message of the one error the run wrote, which must be the dashboard's "cannot start" error; no server was left.</summary>
    private static string Unavailable(PsRun run)
    {
        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.DashboardUnavailable,BatchOps.PowerShell.Commands.StartBatchDashboardCommand", error.FullyQualifiedErrorId);
        Assert.Empty(run.Output);
        return error.Exception.Message;
    }

    private static PsRun WithDotnet(string path, Func<PsRun> run)
    {
        Environment.SetEnvironmentVariable("BATCHOPS_DOTNET", path);
        try
        {
            return run();
        }
        finally
        {
            Environment.SetEnvironmentVariable("BATCHOPS_DOTNET", null);
        }
    }
}
