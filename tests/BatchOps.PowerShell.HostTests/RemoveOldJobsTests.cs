using BatchOps.PowerShell.HostTests.Support;
using Microsoft.Data.Sqlite;

namespace BatchOps.PowerShell.HostTests;

/// <summary>Remove-BatchJob -OlderThan, as an admin runs it: -WhatIf lists what would go, then the old jobs go and the new one stays.</summary>
public sealed class RemoveOldJobsTests
{
    [Fact]
    public void OlderThan_WhatIfListsTheJobsItemsAndBytes_ThenRemovesOnlyTheOldEndedOnes()
    {
        var host = new RecordingHost();
        using var session = new PsSession(host: host);
        session.Run("""
            1..300 | Invoke-BatchJob -Name old-run -ScriptBlock { "done $_" } | Out-Null
            1..10 | Invoke-BatchJob -Name new-run -ScriptBlock { $_ } | Out-Null
            """).ThrowIfFailed();
        var oldId = session.Run("(Get-BatchJob -Name old-run).Id").ThrowIfFailed().Output.Single().ToString();
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(session.Store, "batchops.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE jobs SET ended_at = ended_at - 40 * 86400000 WHERE id = $id";
            command.Parameters.AddWithValue("$id", oldId);
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var dry = session.Run("Remove-BatchJob -OlderThan (New-TimeSpan -Days 30) -WhatIf; @(Get-BatchJob).Count").ThrowIfFailed();
        Assert.Equal("2", dry.Output.Single().ToString());
        var whatIf = Assert.Single(host.Lines, l => l.StartsWith("What if: ", StringComparison.Ordinal));
        Assert.Matches($@"^What if: Performing the operation ""Remove"" on target ""job 'old-run' \({oldId}\), Completed, ended .*: 300 item\(s\), about [\d,]+ bytes""\.$", whatIf);

        var removed = session.Run("Remove-BatchJob -OlderThan (New-TimeSpan -Days 30) -Status Completed -Confirm:$false -Verbose; (Get-BatchJob).Name").ThrowIfFailed();
        Assert.Equal("new-run", removed.Output.Single().ToString());
        Assert.Contains(removed.Verbose, v => v.StartsWith("Removed 1 job(s), 300 item(s), about ", StringComparison.Ordinal));

        var refused = session.Run("Remove-BatchJob -OlderThan (New-TimeSpan -Days 1) -Status Running");
        Assert.Equal("ParameterArgumentValidationError,BatchOps.PowerShell.Commands.RemoveBatchJobCommand", Assert.Single(refused.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void GetBatchStatistics_ReportsTheStoresSize_AndBytesPerItem()
    {
        using var session = new PsSession();
        var run = session.Run("""
            1..500 | Invoke-BatchJob -Name sized -ScriptBlock { [pscustomobject]@{ Name = "srv$_"; Ok = $true } } | Out-Null
            $s = Get-BatchStatistics
            $s.StoreBytes -gt 0
            [math]::Round($s.StoreBytes / $s.Items) -eq [math]::Round($s.BytesPerItem)
            """).ThrowIfFailed();

        Assert.Equal(["True", "True"], run.Output.Select(o => o.ToString()));
    }
}
