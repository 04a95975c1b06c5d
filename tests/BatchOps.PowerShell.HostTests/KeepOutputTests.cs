using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>-KeepOutput as a runbook uses it: outputs still reach the pipeline, the store keeps none, and every reader says so.</summary>
public sealed class KeepOutputTests
{
    [Fact]
    public void KeepOutputNone_OutputsReachThePipeline_TheStoreKeepsNone_AndReadersSaySo()
    {
        using var session = new PsSession();
        var run = session.Run("""
            $results = 1..20 | Invoke-BatchJob { if ($_ -eq 5) { throw 'five' } [pscustomobject]@{ Name = "srv$_" } } -Name quiet -KeepOutput None -ErrorAction SilentlyContinue
            @($results | Where-Object Status -EQ Succeeded | Where-Object { $_.Output.Name -like 'srv*' }).Count
            (Get-BatchJob -Name quiet).Settings.KeepOutput
            @(Get-BatchItem -Id quiet | Where-Object { $null -ne $_.Output }).Count
            $null = Restart-BatchFailed -Id quiet -ErrorAction SilentlyContinue
            @(Get-BatchItem -Id quiet -WarningAction SilentlyContinue | Where-Object { $null -ne $_.Output }).Count
            ((Export-BatchJob -Id quiet -WarningAction SilentlyContinue) | ConvertFrom-Json).outputsNotKept
            """).ThrowIfFailed();

        Assert.Equal(["19", "None", "0", "0", "outputs were not kept (KeepOutput None)"], run.Output.Select(o => o.ToString()));
        Assert.Contains(run.Warnings, w => w.Contains("Job 'quiet' (", StringComparison.Ordinal) && w.EndsWith("outputs were not kept (KeepOutput None); Output is empty for those items.", StringComparison.Ordinal));
    }

    [Fact]
    public void KeepOutputNone_WithAnUndoScriptBlock_IsRefusedWithTheFix()
    {
        using var session = new PsSession();

        var run = session.Run("1..3 | Invoke-BatchJob { $_ } -UndoScriptBlock { $BatchOutput } -KeepOutput None -Name undoable");

        var message = run.Terminating?.Message ?? run.Errors.FirstOrDefault()?.ToString();
        Assert.Contains("a job that can be undone keeps its outputs", message, StringComparison.Ordinal);
        Assert.Empty(session.Run("Get-BatchJob").ThrowIfFailed().Output);
    }
}
