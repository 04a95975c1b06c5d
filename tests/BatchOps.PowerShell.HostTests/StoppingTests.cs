using System.Diagnostics;
using System.Management.Automation;
using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>Error policies, job timeouts and Ctrl+C with worker runspaces: each must return within seconds.</summary>
public sealed class StoppingTests : IDisposable
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(20);
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void StopOnError_ReturnsPromptlyWithTheRestSkipped(int throttle)
    {
        var run = _session.Run($$"""
            $results = 1..100 | Invoke-BatchJob { if ($_ -eq 5) { throw 'five' }; $_ } -ThrottleLimit {{throttle}} -ChunkSize 10 -StopOnError -Name halt -ErrorVariable failures -ErrorAction SilentlyContinue
            @($failures | Where-Object { $_.FullyQualifiedErrorId -like 'BatchOps.JobFailed,*' }).Count
            @($results | Where-Object Status -eq 'Failed').Count
            @($results | Where-Object Status -eq 'Skipped').Count -gt 0
            $results.Count
            (Get-BatchJob -Name halt).Status.ToString()
            """, limit: Prompt);

        Assert.Null(run.Terminating);
        Assert.Equal(["1", "1", "True", "100", "Failed"], run.Output.Select(o => o.ToString()));
        if (throttle == 1)
        {
            Assert.Equal(4, _session.Run("@(Get-BatchItem -Id halt -Status Succeeded).Count").Output.Single().BaseObject);
        }
    }

    [Fact]
    public void NewBatchJob_StoppedWhileItsPipelineFlows_CreatesNoJob_NotEvenPartOfOne()
    {
        var marker = Path.Combine(_session.Store, "halfway");
        using var running = _session.Start($$"""
            1..100000 | ForEach-Object { if ($_ -eq 30000) { [IO.File]::WriteAllText('{{marker}}', 'x') }; $_ } | New-BatchJob { $_ } -Name cut-short -ChunkSize 500
            """);
        running.WaitUntil(_ => File.Exists(marker), Prompt, "the pipeline to pass item 30,000");

        running.Stop(Prompt);
        var stopped = running.Wait(Prompt);

        Assert.Equal(PSInvocationState.Stopped, stopped.State);
        var after = _session.Run("""
            @(Get-BatchJob -Name cut-short).Count
            @(Get-BatchJob).Count
            @(Get-BatchJob -Status Creating).Count
            """, limit: Prompt);
        Assert.Equal(["0", "0", "0"], after.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_StoppedWhileItsPipelineFlows_SaysItsInputIsIncomplete_AndItsResumeWarns()
    {
        var marker = Path.Combine(_session.Store, "streaming");
        using var running = _session.Start($$"""
            1..100000 | ForEach-Object { if ($_ -eq 3000) { [IO.File]::WriteAllText('{{marker}}', 'x') }; $_ } | Invoke-BatchJob { $_ } -Name streamed -ChunkSize 100
            """);
        running.WaitUntil(_ => File.Exists(marker), Prompt, "the pipeline to pass item 3,000");

        running.Stop(Prompt);
        running.Wait(Prompt);

        var job = _session.Run("""
            $job = Get-BatchJob -Name streamed
            $job.InputIncomplete
            $job.Message
            $job.Total
            """, limit: Prompt).ThrowIfFailed();
        Assert.Equal("True", job.Output[0].ToString());
        var total = (long)job.Output[2].BaseObject;
        Assert.InRange(total, 1, 99_999);
        Assert.StartsWith($"input incomplete: {total:N0} item(s) were recorded before the input stopped", job.Output[1].ToString(), StringComparison.Ordinal);

        var resumed = _session.Run("""
            $null = Invoke-BatchJob -Id streamed
            (Get-BatchJob -Name streamed).Status.ToString()
            (Get-BatchJob -Name streamed).Message
            """, limit: Prompt).ThrowIfFailed();
        var warning = Assert.Single(resumed.Warnings);
        Assert.Contains($"input incomplete: {total:N0} item(s) were recorded before the input stopped", warning, StringComparison.Ordinal);
        Assert.Equal("Completed", resumed.Output[0].ToString());
        Assert.StartsWith("input incomplete:", resumed.Output[1].ToString(), StringComparison.Ordinal);

        var whole = _session.Run("1..50 | Invoke-BatchJob { $_ } -Name whole | Out-Null; (Get-BatchJob -Name whole).InputIncomplete", limit: Prompt);
        Assert.Equal("False", whole.Output.Last().ToString());
    }

    [Fact]
    public void MaxErrors_ReturnsPromptlyAfterTheNthFailure()
    {
        var run = _session.Run("""
            $results = 1..200 | Invoke-BatchJob { if ($_ % 3 -eq 0) { throw "bad $_" }; $_ } -ThrottleLimit 2 -ChunkSize 20 -MaxErrors 3 -Name capped -ErrorAction SilentlyContinue
            @($results | Where-Object Status -eq 'Failed').Count -ge 3
            @($results | Where-Object Status -eq 'Skipped').Count -gt 100
            (Get-BatchJob -Name capped).Status.ToString()
            """, limit: Prompt);

        Assert.Equal(["True", "True", "Failed"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void JobTimeout_StopsRunningWorkersAndReturnsPromptly()
    {
        var clock = Stopwatch.StartNew();
        var run = _session.Run("""
            $results = 1..50 | Invoke-BatchJob { Start-Sleep -Seconds 60; $_ } -ThrottleLimit 2 -JobTimeoutSeconds 1 -Name slow -ErrorVariable failures -ErrorAction SilentlyContinue
            @($failures | Where-Object { $_.FullyQualifiedErrorId -like 'BatchOps.JobFailed,*' }).Count
            @($results | Where-Object Status -eq 'Succeeded').Count
            (Get-BatchJob -Name slow).Status.ToString()
            """, limit: Prompt);

        Assert.Equal(["1", "0", "Failed"], run.Output.Select(o => o.ToString()));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public void CtrlC_ReturnsPromptlyLeavesTheJobCancelledAndResumeRunsEachItemOnce()
    {
        // One marker file per run of an item (appending to one file from four workers can lose lines).
        var log = Directory.CreateDirectory(Path.Combine(_session.Store, "ran")).FullName;
        _session.Runspace.SessionStateProxy.SetVariable("log", log);
        _session.Run("""
            $null = 1..200 | New-BatchJob {
                [IO.File]::WriteAllText([IO.Path]::Combine($using:log, "$_." + [guid]::NewGuid()), '')
                Start-Sleep -Milliseconds 50
                $_
            } -ThrottleLimit 4 -ChunkSize 10 -Name interrupted
            """).ThrowIfFailed();
        using var running = _session.Start("Invoke-BatchJob -Id interrupted");
        running.WaitUntil(r => r.Output.Count >= 20, Prompt, "20 results before pressing Ctrl+C");

        var took = running.Stop(Prompt);

        Assert.True(took < TimeSpan.FromSeconds(10), $"Stop took {took}");
        var job = _session.Run("Get-BatchJob -Name interrupted").ThrowIfFailed().Objects.Single();
        Assert.Equal("Cancelled", job.GetType().GetProperty("Status")!.GetValue(job)!.ToString());

        var resumed = _session.Run("@(Invoke-BatchJob -Id interrupted).Count; (Get-BatchJob -Name interrupted).Status.ToString(); (Get-BatchJob -Name interrupted).Succeeded", limit: Prompt).ThrowIfFailed();

        Assert.Equal("Completed", resumed.Output[1].ToString());
        Assert.Equal("200", resumed.Output[2].ToString());
        var ran = Directory.GetFiles(log).Select(f => int.Parse(Path.GetFileName(f).Split('.')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var twice = ran.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();

        // Items running at Ctrl+C were let finish (and recorded), so none ran twice.
        Assert.True(twice.Count == 0, $"ran twice: {string.Join(',', twice)}");
        Assert.True(ran.Distinct().Count() == 200, $"never ran: {string.Join(',', Enumerable.Range(1, 200).Except(ran))}");
    }

    [Fact]
    public void CtrlC_WhileInputIsStillBeingPiped_ReturnsAndResumeFinishesWhatWasReceived()
    {
        using var running = _session.Start("1..1000000 | Invoke-BatchJob { Start-Sleep -Milliseconds 20; $_ } -ThrottleLimit 2 -Name endless");
        running.WaitUntil(r => r.Output.Count >= 5, Prompt, "first results");

        running.Stop(Prompt);

        var job = _session.Run("(Get-BatchJob -Name endless).Status.ToString()").ThrowIfFailed();
        Assert.Equal("Cancelled", job.Output.Single().ToString());
        var resumed = _session.Run("$null = Invoke-BatchJob -Id endless; $j = Get-BatchJob -Name endless; $j.Status.ToString(); $j.Succeeded -eq $j.Total", limit: Prompt).ThrowIfFailed();
        Assert.Equal(["Completed", "True"], resumed.Output.Select(o => o.ToString()));
    }
}
