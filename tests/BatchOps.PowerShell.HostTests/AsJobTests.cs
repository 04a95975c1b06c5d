using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>-AsJob with PowerShell's own job cmdlets: Get-Job, Receive-Job, Wait-Job, Stop-Job, Remove-Job.</summary>
public sealed class AsJobTests : IDisposable
{
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Fact]
    public void AsJob_ReturnsAtOnceAndWorksWithGetReceiveWaitAndRemoveJob()
    {
        var started = _session.Run("""
            $job = 1..40 | Invoke-BatchJob { Start-Sleep -Milliseconds 50; $_ * 2 } -Name background -ThrottleLimit 2 -AsJob
            $job -is [BatchOps.BatchBackgroundJob]
            $job.PSJobTypeName
            (Get-Job -Id $job.Id).Name
            $job.State.ToString()
            """).ThrowIfFailed();

        Assert.Equal(["True", "BatchOpsJob", "background", "Running"], started.Output.Select(o => o.ToString()));

        var received = _session.Run("""
            $first = @(Receive-Job $job)
            $null = Wait-Job $job -Timeout 30
            $rest = @(Receive-Job $job)
            $all = $first + $rest
            $all.Count
            ($all | Sort-Object Index).Output -join ','
            $job.State.ToString()
            (Get-BatchJob -Id $job.BatchJobId).Status.ToString()
            # PowerShell's job table, as Get-Job draws it: the job's name, type and state.
            ($job | Format-Table | Out-String -Width 200).Split("`n")[3] -match "^$($job.Id)\s+background\s+BatchOpsJob\s+Completed\s"
            Remove-Job $job
            @(Get-Job | Where-Object Id -eq $job.Id).Count
            """).ThrowIfFailed();

        Assert.Equal(["40", string.Join(',', Enumerable.Range(1, 40).Select(i => i * 2)), "Completed", "Completed", "True", "0"], received.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void AsJob_ResultsStreamInAsItemsFinish()
    {
        var run = _session.Run("""
            $job = 1..20 | Invoke-BatchJob { Start-Sleep -Milliseconds 100; $_ } -ThrottleLimit 1 -AsJob
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while ($job.Output.Count -lt 3 -and [DateTime]::UtcNow -lt $deadline) { [Threading.Thread]::Sleep(20) }
            $early = @(Receive-Job $job).Count
            $early -ge 3 -and $early -lt 20
            $null = Wait-Job $job -Timeout 30
            $early + @(Receive-Job $job).Count
            """).ThrowIfFailed();

        Assert.Equal(["True", "20"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void AsJob_FailedItemsGoToTheJobsErrorStream()
    {
        var run = _session.Run("""
            $job = 1..5 | Invoke-BatchJob { if ($_ -eq 3) { throw 'three' }; $_ } -AsJob
            $null = Wait-Job $job -Timeout 30
            $out = Receive-Job $job -ErrorVariable failures -ErrorAction SilentlyContinue
            @($out).Count
            $failures.Count
            $failures[0].FullyQualifiedErrorId
            $job.State.ToString()
            """).ThrowIfFailed();

        Assert.Equal(["5", "1", "BatchOps.ItemFailed", "Completed"], run.Output.Take(4).Select(o => o.ToString()));
    }

    [Fact]
    public void StopJob_StopsTheBatchJobGracefullyAndLeavesItResumable()
    {
        var run = _session.Run("""
            $job = 1..400 | Invoke-BatchJob { Start-Sleep -Milliseconds 50; $_ } -Name stoppable -ThrottleLimit 2 -AsJob
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while ($job.Output.Count -lt 4 -and [DateTime]::UtcNow -lt $deadline) { [Threading.Thread]::Sleep(20) }
            Stop-Job $job
            $job.State.ToString()
            $stopped = Get-BatchJob -Id $job.BatchJobId
            $stopped.Status.ToString()
            $stopped.Succeeded -lt 400
            $stopped.Succeeded -eq @(Receive-Job $job | Where-Object Status -eq 'Succeeded').Count
            $rest = @(Invoke-BatchJob -Id $job.BatchJobId)
            $rest.Count + $stopped.Succeeded
            """, limit: TimeSpan.FromSeconds(60)).ThrowIfFailed();

        Assert.Equal(["Stopped", "Cancelled", "True", "True", "400"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void RestartBatchFailed_AsJob_RetriesInTheBackground()
    {
        var run = _session.Run("""
            $flag = [IO.Path]::Combine($Store, 'fixed')
            $null = 1..10 | Invoke-BatchJob { if ($_ % 2 -and -not [IO.File]::Exists($using:flag)) { throw 'odd' }; $_ } -Name retried -ErrorAction SilentlyContinue
            [IO.File]::WriteAllText($flag, '')
            $job = Restart-BatchFailed -Id retried -AsJob -Confirm:$false
            $null = Wait-Job $job -Timeout 30
            (Receive-Job $job | Sort-Object Index).Input -join ','
            (Get-BatchJob -Name retried).Status.ToString()
            """).ThrowIfFailed();

        Assert.Equal(["1,3,5,7,9", "Completed"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void AsJob_UnderUseCallerRunspaceDefault_RunsNowInTheCallersRunspace_AndReturnsTheFinishedJob()
    {
        // As a Pester test sets it: the runbook's own -AsJob and -ThrottleLimit stay as they are.
        var run = _session.Run("""
            $calls = [Collections.Generic.List[object]]::new()
            function Set-Thing($Name) { $calls.Add($Name); if ($Name -eq 3) { throw 'three' }; "set $Name" }
            $PSDefaultParameterValues['*-Batch*:UseCallerRunspace'] = $true
            $job = 1..5 | Invoke-BatchJob { Set-Thing $_ } -AsJob -ThrottleLimit 8 -Name here -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.Job] }
            $job.State.ToString()
            $calls -join ','
            $results = Receive-Job $job -Wait -ErrorAction SilentlyContinue -ErrorVariable failed
            ($results | Sort-Object Index).Output -join ','
            $failed.Count
            (Get-BatchJob -Name here).Status.ToString()
            $calls.Clear()
            $retry = Restart-BatchFailed -Id here -AsJob -Confirm:$false
            "$($retry.State) $($calls -join ',')"
            """).ThrowIfFailed();

        Assert.Equal(["Completed", "1,2,3,4,5", "set 1,set 2,,set 4,set 5", "1", "CompletedWithErrors", "Completed 3"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void AsJob_UnderUseCallerRunspace_SaysTheJobRunsNow()
    {
        var run = _session.Run("$null = 1 | Invoke-BatchJob { $_ } -AsJob -UseCallerRunspace -Verbose").ThrowIfFailed();

        Assert.Contains(run.Verbose, v => v.StartsWith("-UseCallerRunspace: -AsJob runs the job now", StringComparison.Ordinal));
    }
}
