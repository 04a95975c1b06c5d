using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>-Stage, -UndoScriptBlock, -OnFailure Rollback and Undo-BatchJob run as users run them.</summary>
public sealed class StagesAndUndoTests : IDisposable
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(60);
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Fact]
    public void Stage_RunsStagesInDependencyOrder_AndResultsAndItemsCarryTheirStage()
    {
        var run = _session.Run("""
            $results = Invoke-BatchJob -Name provision -ThrottleLimit 1 -Stage @{
                Name = 'users'; DependsOn = 'networks'; InputObject = 'ann', 'bob'
                ScriptBlock = { "id-$_@$($BatchContext.Stage)" }
            }, @{
                Name = 'networks'; InputObject = 'net1'
                ScriptBlock = { "id-$_" }
            }
            ($results | ForEach-Object { "$($_.Index):$($_.Stage):$($_.Output)" }) -join ','
            $job = Get-BatchJob -Name provision
            $job.Status.ToString()
            $job.Stages -join ','
            (Get-BatchItem -Id provision -Stage networks | ForEach-Object { "$($_.Index):$($_.Stage)" }) -join ','
            """).ThrowIfFailed();

        // Results stream as items finish: every item of networks before any of users, which depends on it.
        Assert.Equal(
            ["2:networks:id-net1,0:users:id-ann@users,1:users:id-bob@users", "Completed", "networks,users", "2:networks"],
            run.Output.Select(o => o.ToString()));
        Assert.Contains(run.Progress, p => p.Activity.EndsWith(": stage networks", StringComparison.Ordinal));
    }

    [Fact]
    public void GetBatchStatistics_Id_ReportsEachStagesCountsAndRate_FromThePipeline_AndTheTableShowsThem()
    {
        var run = _session.Run("""
            $null = Invoke-BatchJob -Name staged -ErrorAction SilentlyContinue -Stage @{
                Name = 'fetch'; InputObject = 1..40; ScriptBlock = { if ($_ % 13 -eq 0) { throw "no $_" }; $_ }
            }, @{
                Name = 'apply'; DependsOn = 'fetch'; InputObject = 1..10; ScriptBlock = { $_ }
            }
            $null = 1..3 | Invoke-BatchJob -Name plain -ScriptBlock { $_ }
            Get-BatchJob -Name staged | Get-BatchStatistics | ForEach-Object { "$($_.Stage):$($_.Status):$($_.Items):$($_.Succeeded):$($_.Failed):$($_.Skipped):$($_.ItemsPerSecond -gt 0)" }
            (Get-BatchStatistics -Id staged -Stage app* | ForEach-Object Stage) -join ','
            (Get-BatchStatistics -Id plain | ForEach-Object { "[$($_.Stage)]:$($_.Status):$($_.Items)" })
            Get-BatchStatistics -Id staged, plain | Out-String -Width 120
            """).ThrowIfFailed();
        var missing = _session.Run("Get-BatchStatistics -Id staged -Stage nope, fetch");

        var lines = run.Output.Select(o => o.ToString()!).ToList();
        Assert.Equal(["fetch:CompletedWithErrors:40:37:3:0:True", "apply:Skipped:10:0:0:10:False", "apply", "[]:Completed:3"], lines.Take(4));
        var table = lines[4].Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.Matches(@"^Stage\s+Status\s+Items\s+Succeeded\s+Failed\s+Skipped\s+Pending\s+Undone\s+Duration\s+Items/s$", table[0]);
        Assert.Matches(@"^fetch\s+CompletedWithErrors\s+40\s+37\s+3\s+0\s+0\s+0\s+\d\d:\d\d:\d\d\s+[\d.,]+$", table[2]);
        Assert.Matches(@"^apply\s+Skipped\s+10\s+0\s+0\s+10\s+0\s+0\s+-\s+-$", table[3]);
        Assert.Contains(table, l => l.StartsWith("(job)", StringComparison.Ordinal));
        var error = Assert.Single(missing.Errors);
        Assert.Equal("BatchOps.StageNotFound,BatchOps.PowerShell.Commands.GetBatchStatisticsCommand", error.FullyQualifiedErrorId);
        Assert.EndsWith("has no stage 'nope'. Its stages: fetch, apply.", error.Exception.Message, StringComparison.Ordinal);
        Assert.Equal("fetch", Assert.Single(missing.Output).Properties["Stage"].Value);
    }

    [Fact]
    public void Stage_UnknownKeyOrCycle_IsRejectedNamingItAndCreatesNothing()
    {
        var typo = _session.Run("Invoke-BatchJob -Name typo -Stage @{ Name = 'a'; InputObject = 1; ScriptBlock = { $_ }; DependOn = 'b' }");
        var cycle = _session.Run("""
            New-BatchJob -Name cyclic -Stage @{ Name = 'networks'; DependsOn = 'users'; InputObject = 1; ScriptBlock = { $_ } },
                @{ Name = 'users'; DependsOn = 'networks'; InputObject = 1; ScriptBlock = { $_ } }
            """);
        var count = _session.Run("@(Get-BatchJob).Count").ThrowIfFailed();

        Assert.Contains("unknown key 'DependOn'. Did you mean 'DependsOn'?", Assert.Single(typo.Errors).Exception.Message, StringComparison.Ordinal);
        Assert.Contains("Dependency cycle: networks -> users -> networks", Assert.Single(cycle.Errors).Exception.Message, StringComparison.Ordinal);
        Assert.Equal("0", count.Output.Single().ToString());
    }

    [Fact]
    public void OnFailureRollback_UndoesSucceededItemsNewestFirst_WithTheirOutputs()
    {
        var log = Path.Combine(Path.GetTempPath(), "batchops-rollback-" + Guid.NewGuid().ToString("N") + ".log");
        try
        {
            var run = _session.Run("""
                $results = 1..5 | Invoke-BatchJob -Name vms -ThrottleLimit 1 -OnFailure Rollback -ScriptBlock {
                    if ($_ -eq 4) { throw "no capacity for vm $_" }
                    "vm-$_"
                } -UndoScriptBlock { [IO.File]::AppendAllText($using:log, "$_=$BatchOutput,") } -ErrorAction SilentlyContinue -ErrorVariable failures
                ($results | Where-Object Status -eq 'Compensated' | ForEach-Object Index) -join ','
                $job = Get-BatchJob -Name vms
                $job.Status.ToString()
                $job.Compensated
                @($failures | Where-Object { $_.Exception.Message -like '*no capacity*' }).Count
                """.Replace("$using:log", $"'{log}'", StringComparison.Ordinal));

            Assert.Equal("5=vm-5,3=vm-3,2=vm-2,1=vm-1,", File.ReadAllText(log));
            Assert.Equal(["4,2,1,0", "RolledBack", "4", "1"], run.Output.Select(o => o.ToString()));
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public void UndoBatchJob_WhatIfChangesNothing_ThenUndoRecordsFailedCompensationsAsErrors()
    {
        _session.Run("""
            $null = 'a', 'b', 'c' | Invoke-BatchJob -Name manual -ThrottleLimit 1 -ScriptBlock { "made-$_" } -UndoScriptBlock {
                if ($_ -eq 'b') { throw "b is locked" }
                $BatchContext.IdempotencyKey
            }
            """).ThrowIfFailed();

        var whatIf = _session.Run("Undo-BatchJob -Id manual -WhatIf; (Get-BatchJob -Name manual).Status.ToString()").ThrowIfFailed();
        Assert.Equal("Completed", whatIf.Output.Single().ToString());

        var undo = _session.Run("""
            $results = Undo-BatchJob -Id manual -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failed
            ($results | ForEach-Object { "$($_.Index):$($_.Status)" }) -join ','
            $failed[0].TargetObject.Error.Message
            (Get-BatchJob -Name manual).Status.ToString()
            (Get-BatchItem -Id manual -Status CompensationFailed).Input
            """);

        var lines = undo.Output.Select(o => o.ToString()).ToList();
        Assert.Equal("2:Compensated,1:CompensationFailed,0:Compensated", lines[0]);
        Assert.Contains("b is locked", lines[1], StringComparison.Ordinal);
        Assert.Equal(["RollbackFailed", "b"], lines.Skip(2));
    }

    [Fact]
    public void CtrlC_DuringARollback_ResumeGoesOnCompensatingAndUndoesEachItemOnce()
    {
        var log = Path.Combine(Path.GetTempPath(), "batchops-undo-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(log);
        try
        {
            _session.Run("""
                $null = 1..30 | New-BatchJob -Name slowundo -ThrottleLimit 2 -ScriptBlock { $_ } -UndoScriptBlock {
                    Start-Sleep -Milliseconds 100
                    [IO.File]::WriteAllText([IO.Path]::Combine($using:log, "$_." + [guid]::NewGuid()), '')
                }
                Invoke-BatchJob -Id slowundo
                """.Replace("$using:log", $"'{log}'", StringComparison.Ordinal)).ThrowIfFailed();

            using (var running = _session.Start("Undo-BatchJob -Id slowundo -Confirm:$false"))
            {
                running.WaitUntil(r => r.Output.Count >= 5, Prompt, "5 compensations before pressing Ctrl+C");
                running.Stop(Prompt);
            }

            var stopped = _session.Run("$j = Get-BatchJob -Name slowundo; $j.Status.ToString(); $j.Compensated").ThrowIfFailed();
            Assert.Equal("Cancelled", stopped.Output[0].ToString());
            Assert.InRange(int.Parse(stopped.Output[1].ToString()!, System.Globalization.CultureInfo.InvariantCulture), 5, 29);

            var resumed = _session.Run("Invoke-BatchJob -Id slowundo | Out-Null; (Get-BatchJob -Name slowundo).Status.ToString()").ThrowIfFailed();

            Assert.Equal("RolledBack", resumed.Output.Single().ToString());
            var undone = Directory.GetFiles(log).Select(f => Path.GetFileName(f).Split('.')[0]).ToList();
            Assert.Equal(30, undone.Count);
            Assert.Equal(30, undone.Distinct().Count());
        }
        finally
        {
            Directory.Delete(log, recursive: true);
        }
    }
}
