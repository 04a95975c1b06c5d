using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

public sealed class SmokeTests
{
    [Fact]
    public void InvokeBatchJob_PipedNumbers_EmitsResults()
    {
        using var session = new PsSession();
        var run = session.Run("1..20 | Invoke-BatchJob { $_ * 2 } -ThrottleLimit 4");
        run.ThrowIfFailed();
        Assert.Equal(20, run.Output.Count);
    }
}
