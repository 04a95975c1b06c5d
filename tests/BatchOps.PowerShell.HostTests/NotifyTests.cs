using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>Invoke-BatchJob -Notify, run as a user runs it: the webhook on loopback gets the notice once, Get-BatchJob shows it.</summary>
public sealed class NotifyTests
{
    [Fact]
    public void Notify_SendsTheJobsNoticeOnce_ToTheWebhookItsVariableNames_AndGetBatchJobShowsIt()
    {
        using var hook = new LoopbackServer((_, hit) => new Reply(hit == 1 ? 503 : 200));
        var variable = $"HOOK_{Guid.NewGuid():N}";
        using var session = new PsSession();
        session.Runspace.SessionStateProxy.SetVariable("variable", variable);
        session.Runspace.SessionStateProxy.SetVariable("url", $"{hook.Url}/hook");
        try
        {
            var run = session.Run("""
                Set-Item "env:$variable" $url
                1..5 | Invoke-BatchJob -Name told -Notify @{ on = 'CompletedWithErrors'; webhook = "env:$variable" } -ScriptBlock { if ($_ -eq 3) { throw 'bad' } $_ } -ErrorAction SilentlyContinue | Out-Null
                (Get-BatchJob -Name told).Notices
                """, limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();

            var notice = Assert.Single(run.Output).ToString();
            Assert.Matches($@"^webhook env:{variable} \(json\) on CompletedWithErrors: sent .* \(2 attempt\(s\)\)$", notice);
            Assert.Equal(2, hook.Hits("/hook").Count); // the 503, then the one that got through
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void ABadNotifyTarget_EndsTheCommandNamingTheFix_AndCreatesNothing()
    {
        using var session = new PsSession();

        var run = session.Run("""
            1..3 | Invoke-BatchJob -Name untold -Notify @{ on = 'Failed'; webhook = 'https://hooks.example.test/T0/SECRET' } -ScriptBlock { $_ }
            """);

        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidNotify,BatchOps.PowerShell.Commands.InvokeBatchJobCommand", error.FullyQualifiedErrorId);
        Assert.Contains("-Notify: notify[0]: \"webhook\": BatchOps never stores its URL", error.Exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.Exception.Message, StringComparison.Ordinal);
        Assert.Equal("0", session.Run("@(Get-BatchJob -Name untold).Count").ThrowIfFailed().Output.Single().ToString());
    }
}
