using System.Management.Automation;
using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>Invoke-BatchJob run as users run it: piped input, result objects, error records, streams.</summary>
public sealed class InvokeBatchJobTests : IDisposable
{
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Fact]
    public void InvokeBatchJob_PipedNumbers_OutputsOneResultPerItemAndCompletesTheJob()
    {
        var run = _session.Run("""
            $results = 1..200 | Invoke-BatchJob { $_ * 2 } -Name doubling -ThrottleLimit 8 -ChunkSize 25
            $results.Count
            ($results | Sort-Object Index | ForEach-Object Output) -join ','
            @($results | Where-Object Status -ne 'Succeeded').Count
            (Get-BatchJob -Name doubling).Status.ToString()
            """).ThrowIfFailed();

        Assert.Equal(["200", string.Join(',', Enumerable.Range(1, 200).Select(i => i * 2)), "0", "Completed"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_LongPipedInput_ResultsFlowDownstreamWhileInputStillArrives()
    {
        // The input buffer and the chunks in flight hold a few hundred items at most, so by the 1,000th
        // input item earlier results must already have reached the next command.
        var run = _session.Run("""
            $seen = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
            $early = $null
            & { foreach ($i in 1..2000) { if ($i -eq 1000) { $script:early = $seen.Count }; $i } } |
                Invoke-BatchJob { $_ } -Name streaming -ThrottleLimit 2 -ChunkSize 10 |
                ForEach-Object { $seen.Enqueue($_) }
            $early -gt 0
            $seen.Count
            """).ThrowIfFailed();

        Assert.Equal(["True", "2000"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void OutputTypes_ResolveByNameInTheSession()
    {
        var run = _session.Run("""
            function Test-Typed { param([BatchOps.BatchItemResult] $Result) $Result.Index }
            $result = 1 | Invoke-BatchJob { $_ } -Name typed
            $result -is [BatchOps.BatchItemResult]
            Test-Typed $result
            (Get-BatchJob -Name typed) -is [BatchOps.BatchJob]
            $result.Status -eq [BatchOps.ItemStatus]::Succeeded
            (Get-BatchJob -Name typed).Status -eq [BatchOps.JobStatus]::Completed
            # Every type Get-Member names resolves in the session.
            ($result, (Get-BatchJob -Name typed), (Get-BatchStatistics)) | ForEach-Object { $_.PSObject.TypeNames[0] } | ForEach-Object { $null -ne ($_ -as [type]) }
            """).ThrowIfFailed();

        Assert.Equal(["True", "0", "True", "True", "True", "True", "True", "True"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_ThrottleLimitOne_KeepsInputOrder()
    {
        var run = _session.Run("(1..50 | Invoke-BatchJob { $_ } -ThrottleLimit 1).Index -join ','").ThrowIfFailed();

        Assert.Equal(string.Join(',', Enumerable.Range(0, 50)), run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_PreserveOrder_OutputsInInputOrderInParallel()
    {
        var run = _session.Run("(1..40 | Invoke-BatchJob { Start-Sleep -Milliseconds (($_ * 7) % 20); $_ } -ThrottleLimit 6 -PreserveOrder).Output -join ','").ThrowIfFailed();

        Assert.Equal(string.Join(',', Enumerable.Range(1, 40)), run.Output.Single().ToString());
    }

    [Theory]
    [InlineData("if ($_ % 10 -eq 0) { throw \"bad $_\" } else { $_ }", "BatchOps.ItemFailed")]
    [InlineData("if ($_ % 10 -eq 0) { Start-Sleep -Seconds 30 } else { $_ }", "BatchOps.ItemTimedOut")]
    public void InvokeBatchJob_FailedItems_AreOutputAndWrittenAsErrors(string script, string errorId)
    {
        var run = _session.Run($$"""
            $results = 1..20 | Invoke-BatchJob { {{script}} } -TimeoutSeconds 2 -ErrorVariable failures -ErrorAction SilentlyContinue
            @($results | Where-Object Succeeded).Count
            $failures.Count
            $failures | ForEach-Object { $_.FullyQualifiedErrorId }
            $failures | ForEach-Object { $_.TargetObject -is [BatchOps.BatchItemResult] }
            $failures | ForEach-Object { $_.TargetObject.Status.ToString() }
            """);

        Assert.Null(run.Terminating);
        Assert.Equal(["18", "2"], run.Output.Take(2).Select(o => o.ToString()));
        Assert.All(run.Output.Skip(2).Take(2), id => Assert.Equal($"{errorId},BatchOps.PowerShell.Commands.InvokeBatchJobCommand", id.ToString()));
        Assert.Equal(["True", "True", "Failed", "Failed"], run.Output.Skip(4).Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_BreakContinueOrNonTerminatingErrors_EndOnlyTheirItem()
    {
        var run = _session.Run("""
            $results = 1..6 | Invoke-BatchJob {
                if ($_ -eq 2) { continue }
                if ($_ -eq 3) { break }
                if ($_ -eq 4) { Write-Error 'four' }
                $_
            } -ThrottleLimit 1 -ErrorAction SilentlyContinue | Sort-Object Index
            ($results | ForEach-Object { "$($_.Input):$($_.Status)" }) -join ','
            """);

        Assert.Equal("1:Succeeded,2:Succeeded,3:Succeeded,4:Failed,5:Succeeded,6:Succeeded", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_FailedItem_SetsDollarQuestionToFalse()
    {
        var run = _session.Run("1..3 | Invoke-BatchJob { if ($_ -eq 2) { throw 'two' } } -ErrorAction SilentlyContinue | ForEach-Object { }; $?");

        Assert.Equal("False", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_RetryCount_RetriesUntilTheItemSucceeds()
    {
        var run = _session.Run("""
            $marker = [IO.Path]::Combine($Store, 'attempts')
            $results = 1..3 | Invoke-BatchJob {
                $file = "$using:marker-$_"
                [IO.File]::AppendAllText($file, 'x')
                if ([IO.File]::ReadAllText($file).Length -lt 3) { throw 'not yet' }
                'ok'
            } -RetryCount 3 -RetryDelay 0.05
            ($results.Attempts | Sort-Object) -join ','
            ($results.Output) -join ','
            """).ThrowIfFailed();

        Assert.Equal(["3,3,3", "ok,ok,ok"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_BatchContext_GivesTheJobIndexAttemptAndAStableIdempotencyKey()
    {
        var run = _session.Run("""
            $items = 'web01', 'db/02' | ForEach-Object { [pscustomobject]@{ Host = $_ } }
            $results = $items | Invoke-BatchJob {
                if ($BatchContext.Attempt -eq 1 -and $_.Host -eq 'db/02') { throw "first try of $($BatchContext.IdempotencyKey)" }
                '{0}|{1}|{2}|{3}|{4}' -f $BatchContext.JobId, $BatchContext.Index, $BatchContext.Key, $BatchContext.IdempotencyKey, $BatchContext.Attempt
            } -KeyProperty Host -RetryCount 1 -RetryDelay 0.01 -Name ctx
            $job = Get-BatchJob -Name ctx
            $job.Id
            ($results | Sort-Object Index).Output
            # A chunk script block gets every item's key, in order (here: one output per item, its own key).
            (1..2 | Invoke-BatchJob -ChunkScriptBlock { $BatchContext.IdempotencyKeys } -ChunkSize 2 -Name chunked | Sort-Object Index).Output -join ','
            (Get-BatchJob -Name chunked).Id
            """).ThrowIfFailed();

        var lines = run.Output.Select(o => o.ToString()).ToList();
        var id = lines[0];
        Assert.Equal($"{id}|0|web01|{id}:key:web01|1", lines[1]);
        Assert.Equal($"{id}|1|db/02|{id}:key:db%2F02|2", lines[2]);
        var chunked = lines[4];
        Assert.Equal($"{chunked}:0,{chunked}:1", lines[3]);
    }

    [Theory]
    [InlineData("0.05")]
    [InlineData("([timespan]'0:0:0.05')")]
    [InlineData("'00:00:00.05'")]
    public void InvokeBatchJob_RetryDelay_TakesSecondsOrATimeSpan(string delay)
    {
        var run = _session.Run($$"""
            $job = 1 | Invoke-BatchJob { $_ } -RetryCount 1 -RetryDelay {{delay}} -Name delayed
            (Get-BatchJob -Name delayed).Settings.RetryDelay.TotalMilliseconds
            """).ThrowIfFailed();

        Assert.Equal("50", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_RetryDelay_RejectsANegativeValueNamingTheParameter()
    {
        var run = _session.Run("1 | Invoke-BatchJob { $_ } -RetryDelay -1 -Name negative; @(Get-BatchJob -Name negative).Count");

        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidSetting,BatchOps.PowerShell.Commands.InvokeBatchJobCommand", error.FullyQualifiedErrorId);
        Assert.Contains("-RetryDelay", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("0", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_UsingArgumentListAndFunction_ReachTheWorkers()
    {
        var run = _session.Run("""
            $offset = 100
            function Add-Offset { param($Value, $By) $Value + $By }
            (1..5 | Invoke-BatchJob { param($item, $factor) (Add-Offset $item $using:offset) * $factor } -ArgumentList 2 -Function Add-Offset | Sort-Object Index).Output -join ','
            """).ThrowIfFailed();

        Assert.Equal("202,204,206,208,210", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_SecondRun_ReusesWorkersWithoutTheFirstRunsVariablesOrFunctions()
    {
        var run = _session.Run("""
            $value = 'first'
            function Get-Marker { 'marker' }
            $null = 1..4 | Invoke-BatchJob { $global:leak = $using:value; Get-Marker } -ThrottleLimit 2 -Function Get-Marker
            $value = 'second'
            (1..4 | Invoke-BatchJob { "$($global:leak)|$using:value|$([bool](Get-Command Get-Marker -ErrorAction Ignore))" } -ThrottleLimit 2).Output | Sort-Object -Unique
            """).ThrowIfFailed();

        Assert.Equal("|second|False", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_UseCallerRunspace_SeesTheCallersVariables()
    {
        var run = _session.Run("""
            $callerOnly = 'visible'
            (1..3 | Invoke-BatchJob { "$callerOnly $_" } -ThrottleLimit 1 -UseCallerRunspace).Output -join ','
            """).ThrowIfFailed();

        Assert.Equal("visible 1,visible 2,visible 3", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_ChunkScriptBlock_IsolatesTheBadItemByBisection()
    {
        var run = _session.Run("""
            $results = 1..64 | Invoke-BatchJob -ChunkScriptBlock { if ($_ -contains 13) { throw 'thirteen' } $_ | ForEach-Object { $_ * 10 } } -ChunkSize 16 -ErrorAction SilentlyContinue
            ($results | Where-Object { -not $_.Succeeded }).Input
            ($results | Where-Object Index -EQ 0).Output
            """);

        Assert.Equal(["13", "10"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_InvalidSetting_ThrowsBeforeCreatingAnything()
    {
        var run = _session.Run("1..3 | Invoke-BatchJob { $_ } -TimeoutSeconds 0 -Name never; @(Get-BatchJob -Name never).Count");

        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidSetting,BatchOps.PowerShell.Commands.InvokeBatchJobCommand", error.FullyQualifiedErrorId);
        Assert.Contains("-TimeoutSeconds", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("0", run.Output.Single().ToString());
    }

    [Fact]
    public void InvokeBatchJob_WhatIf_CreatesAndRunsNothing()
    {
        var run = _session.Run("1..3 | Invoke-BatchJob { $_ } -Name whatif -WhatIf; @(Get-BatchJob -Name whatif).Count").ThrowIfFailed();

        Assert.Equal("0", run.Output.Last().ToString());
    }

    [Fact]
    public void InvokeBatchJob_Id_RunsOnlyTheUnfinishedItemsOfAStoredJob()
    {
        var run = _session.Run("""
            $job = 1..10 | New-BatchJob { $_ + 1 } -Name stored
            @(Invoke-BatchJob -Id $job.Id).Count
            @(Invoke-BatchJob -Id $job.Id).Count
            @($job | Invoke-BatchJob).Count
            """).ThrowIfFailed();

        Assert.Equal(["10", "0", "0"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_WorkerStreams_ReachTheCallersStreams()
    {
        var run = _session.Run("""
            $DebugPreference = 'Continue'
            1..3 | Invoke-BatchJob {
                Write-Warning "warn $_"
                Write-Verbose "verbose $_"
                Write-Information "info $_"
                Write-Debug "debug $_"
                $_
            } -ThrottleLimit 2 -Verbose -InformationAction Continue | ForEach-Object { }
            """).ThrowIfFailed();

        Assert.Equal(["warn 1", "warn 2", "warn 3"], run.Warnings.Order());
        Assert.Contains("verbose 2", run.Verbose);
        Assert.Equal(["info 1", "info 2", "info 3"], run.Information.Select(i => i.MessageData.ToString()).Order());
        Assert.Contains("debug 3", run.Debug);
    }

    [Fact]
    public void InvokeBatchJob_Progress_IsWrittenAndCompleted()
    {
        var run = _session.Run("1..300 | Invoke-BatchJob { Start-Sleep -Milliseconds 5; $_ } -ThrottleLimit 4 -Name progress | ForEach-Object { }").ThrowIfFailed();

        Assert.NotEmpty(run.Progress);
        Assert.All(run.Progress, p => Assert.StartsWith("BatchOps: progress (", p.Activity, StringComparison.Ordinal));
        Assert.Equal(ProgressRecordType.Completed, run.Progress[^1].RecordType);
        Assert.Contains(run.Progress, p => p.RecordType == ProgressRecordType.Processing && p.PercentComplete is > 0 and < 100);
    }

    [Fact]
    public void WarningAndInformationVariables_WithSilentlyContinue_CollectWhatTheWorkersWrote()
    {
        var run = _session.Run("""
            $null = 1..3 | Invoke-BatchJob { Write-Warning "warn $_"; Write-Information "info $_"; if ($_ -eq 2) { throw "bad $_" }; $_ } -WarningAction SilentlyContinue -WarningVariable w -InformationAction SilentlyContinue -InformationVariable i -ErrorAction SilentlyContinue -ErrorVariable e -ThrottleLimit 1
            @($w).Count
            @($i).Count
            @($e | Where-Object { $_.FullyQualifiedErrorId -like 'BatchOps.ItemFailed*' }).Count
            """);

        Assert.Null(run.Terminating);
        Assert.Equal(["3", "3", "1"], run.Output.Select(o => o.ToString()));
        Assert.Empty(run.Warnings);
    }

    [Fact]
    public void FailedItem_WithoutAKey_ItsMessageNamesTheInputBesideTheIndex()
    {
        var run = _session.Run("""
            1..100 | Invoke-BatchJob { if ($_ -eq 97) { throw "disk full on item $_" }; $_ } -ErrorAction SilentlyContinue -ErrorVariable failed | Out-Null
            $failed[0].ToString()
            """);

        Assert.Matches(@"item 96 \(input 97\) failed after 1 attempt\(s\): disk full on item 97", run.Output.Single().ToString());
    }

    [Fact]
    public void BatchopsShowJson_OfAJobWithoutStages_PrintsNoInternalCount()
    {
        _session.Run("1..5 | Invoke-BatchJob { $_ } -Name plain | Out-Null").ThrowIfFailed();

        var show = _session.Batchops("show", "plain", "--json");

        Assert.DoesNotContain("4611686018427387903", show, StringComparison.Ordinal);
        Assert.Contains("\"total\": 5", show, StringComparison.Ordinal);
    }

    [Fact]
    public void UseCallerRunspace_AtAnyThrottle_RunsStagesAndUndoInTheCallersRunspace_OneAtATime()
    {
        var run = _session.Run("""
            $callerOnly = 'seen'
            $undone = [System.Collections.Generic.List[object]]::new()
            $staged = Invoke-BatchJob -Stage @{ Name = 'a'; InputObject = 1..3; ScriptBlock = { "$callerOnly a$_" } }, @{ Name = 'b'; DependsOn = 'a'; InputObject = 4..5; ScriptBlock = { "$callerOnly b$_" } } -UseCallerRunspace -ThrottleLimit 4 -Verbose 4>&1
            ($staged | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like '*-ThrottleLimit 4 is ignored*' }).Count -ge 1
            ($staged | Where-Object Output | ForEach-Object Output) -join ','
            $null = 1..3 | Invoke-BatchJob { if ($_ -eq 3) { throw 'three' }; $_ } -UndoScriptBlock { $undone.Add($_) } -OnFailure Rollback -UseCallerRunspace -ThrottleLimit 8 -Name undone-here -ErrorAction SilentlyContinue
            ($undone | Sort-Object) -join ','
            (Get-BatchJob -Name undone-here).Status.ToString()
            """);

        Assert.Null(run.Terminating);
        Assert.Equal(["True", "seen a1,seen a2,seen a3,seen b4,seen b5", "1,2", "RolledBack"], run.Output.Select(o => o.ToString()));
    }
}
