using System.Diagnostics;
using System.Management.Automation;
using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>The module as a session sees it: help, completion, re-import, several runspaces and processes on one store.</summary>
public sealed class ModuleTests : IDisposable
{
    private static readonly string[] Cmdlets =
        ["Export-BatchJob", "Get-BatchItem", "Get-BatchJob", "Get-BatchStatistics", "Get-BatchWorker", "Invoke-BatchJob", "New-BatchJob", "Remove-BatchJob", "Restart-BatchFailed", "Start-BatchDashboard", "Start-BatchWorker", "Stop-BatchDashboard", "Stop-BatchJob", "Stop-BatchWorker", "Undo-BatchJob", "Wait-BatchJob", "Write-BatchTable"];

    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Fact]
    public void Module_ExportsExactlyItsCmdletsAndLoadsTheEngineInItsOwnContext()
    {
        var run = _session.Run("""
            ((Get-Command -Module BatchOps).Name | Sort-Object) -join ','
            $null = Get-BatchJob
            $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'BatchOps.Engine' }
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name
            """).ThrowIfFailed();

        Assert.Equal(string.Join(',', Cmdlets), run.Output[0].ToString());
        Assert.Equal("BatchOps", run.Output[1].ToString());
    }

    [Theory]
    [InlineData("ItemStatus", "BatchOps.Engine.Jobs.ItemStatus")]
    [InlineData("JobStatus", "BatchOps.Engine.Jobs.JobStatus")]
    public void StatusEnums_MirrorTheEnginesNamesAndValues(string module, string engine)
    {
        // The module declares its own statuses (the engine's are not reachable by name); a mapping by value
        // is only right while both list the same names with the same values.
        var run = _session.Run($$"""
            $null = Get-BatchJob
            $engine = ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'BatchOps.Engine' }).GetType('{{engine}}')
            $mirror = [BatchOps.{{module}}]
            ([enum]::GetValues($engine) | ForEach-Object { "$_=$([int]$_)" }) -join ','
            ([enum]::GetValues($mirror) | ForEach-Object { "$_=$([int]$_)" }) -join ','
            """).ThrowIfFailed();

        Assert.Equal(run.Output[0].ToString(), run.Output[1].ToString());
    }

    public static TheoryData<string> CmdletNames() => [.. Cmdlets];

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void GetHelp_Full_HasSynopsisDescriptionEveryParameterAndExamples(string cmdlet)
    {
        var run = _session.Run($$"""
            $help = Get-Help {{cmdlet}} -Full
            $help.Synopsis
            @($help.Description).Count -gt 0 -and "$($help.Description[0].Text)".Length -gt 20
            @($help.Examples.Example).Count -ge 2
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            $undocumented = foreach ($p in (Get-Command {{cmdlet}}).Parameters.Values) {
                if ($p.Name -in $common) { continue }
                $doc = $help.Parameters.Parameter | Where-Object Name -EQ $p.Name
                if (-not $doc -or "$($doc.Description[0].Text)".Length -lt 10) { $p.Name }
            }
            "undocumented: $($undocumented -join ',')"
            @(Get-Help {{cmdlet}} -Examples).Count
            """).ThrowIfFailed();

        Assert.False(string.IsNullOrWhiteSpace(run.Output[0].ToString()));
        Assert.DoesNotContain(cmdlet, run.Output[0].ToString(), StringComparison.Ordinal);
        Assert.Equal(["True", "True", "undocumented: ", "1"], run.Output.Skip(1).Select(o => o.ToString()));
    }

    [Fact]
    public void GetHelp_AboutTopic_IsShipped()
    {
        var run = _session.Run("Get-Help about_BatchOps | ForEach-Object { \"$_\" }").ThrowIfFailed();

        Assert.Contains("worker runspaces", string.Concat(run.Output.Select(o => o.ToString())), StringComparison.Ordinal);
    }

    public static TheoryData<string> JobParameters() =>
    [
        "Get-BatchJob -Id ", "Get-BatchJob -Name ", "Get-BatchJob ", "Invoke-BatchJob -Id ", "Stop-BatchJob -Id ", "Stop-BatchJob ",
        "Remove-BatchJob -Id ", "Restart-BatchFailed -Id ", "Get-BatchItem -Id ", "Export-BatchJob -Id ", "Wait-BatchJob -Id ", "Undo-BatchJob -Id ",
    ];

    [Theory]
    [MemberData(nameof(JobParameters))]
    public void TabExpansion_OnEveryJobParameter_CompletesJobNamesAndIds(string line)
    {
        var run = _session.Run($$"""
            $job = 1 | New-BatchJob { $_ } -Name 'alpha-job'
            $null = 1 | New-BatchJob { $_ } -Name 'beta job'
            $all = (TabExpansion2 -inputScript '{{line}}' -cursorColumn {{line.Length}}).CompletionMatches.CompletionText
            $prefixed = (TabExpansion2 -inputScript '{{line}}alp' -cursorColumn {{line.Length + 3}}).CompletionMatches.CompletionText
            ($all | Sort-Object) -join '|'
            $prefixed -join '|'
            $all -contains $job.Id
            """).ThrowIfFailed();

        Assert.Equal(["'beta job'|alpha-job", "alpha-job", "True"], [FirstTwoNames(run.Output[0].ToString()), run.Output[1].ToString(), run.Output[2].ToString()]);
    }

    private static string FirstTwoNames(string all) => string.Join('|', all.Split('|').Where(c => c.Contains("job", StringComparison.Ordinal)));

    [Fact]
    public void RemoveModuleThenImportModule_InOneSession_KeepsWorking()
    {
        var run = _session.Run("""
            $null = 1..3 | Invoke-BatchJob { $_ } -Name before
            Remove-Module BatchOps
            @(Get-Command -Module BatchOps).Count
            Import-Module $ModulePath
            (1..3 | Invoke-BatchJob { $_ * 2 } -Name after).Output -join ','
            (Get-BatchJob -Name before).Status.ToString()
            """).ThrowIfFailed();

        Assert.Equal(["0", "2,4,6", "Completed"], run.Output.Select(o => o.ToString()).Select(s => s.Contains(',', StringComparison.Ordinal) ? string.Join(',', s.Split(',').Order()) : s));
    }

    [Fact]
    public void TwoRunspaces_OnOneStore_RunJobsAtOnceAndSeeEachOthersJobs()
    {
        using var other = new PsSession(_session.Store);
        using var first = _session.Start("(1..300 | Invoke-BatchJob { Start-Sleep -Milliseconds 2; $_ } -ThrottleLimit 4 -ChunkSize 10 -Name from-first).Count");
        using var second = other.Start("(1..300 | Invoke-BatchJob { Start-Sleep -Milliseconds 2; $_ } -ThrottleLimit 4 -ChunkSize 10 -Name from-second).Count");

        var a = first.Wait(PsSession.DefaultLimit).ThrowIfFailed();
        var b = second.Wait(PsSession.DefaultLimit).ThrowIfFailed();

        Assert.Equal(("300", "300"), (a.Output.Single().ToString(), b.Output.Single().ToString()));
        var seen = _session.Run("(Get-BatchJob -Name 'from-*' | Sort-Object Name | ForEach-Object { \"$($_.Name)=$($_.Status)/$($_.Succeeded)\" }) -join ','").ThrowIfFailed();
        Assert.Equal("from-first=Completed/300,from-second=Completed/300", seen.Output.Single().ToString());
    }

    [Fact]
    public void StopBatchJob_FromAnotherRunspace_StopsTheRunAndLeavesItResumable()
    {
        _session.Run("$null = 1..400 | New-BatchJob { Start-Sleep -Milliseconds 50; $_ } -Name long -ThrottleLimit 2").ThrowIfFailed();
        using var running = _session.Start("@(Invoke-BatchJob -Id long).Count");
        using var other = new PsSession(_session.Store);
        running.WaitUntil(r => r.Output.Count > 0 || other.Run("(Get-BatchJob -Name long).Succeeded").Output.Single().BaseObject is long n && n > 0, TimeSpan.FromSeconds(20), "the job to start");

        other.Run("Stop-BatchJob -Id long -Confirm:$false").ThrowIfFailed();
        running.Wait(TimeSpan.FromSeconds(20));

        var state = _session.Run("$j = Get-BatchJob -Name long; $j.Status.ToString(); $j.Succeeded -lt 400; @(Invoke-BatchJob -Id long).Count + $j.Succeeded; (Get-BatchJob -Name long).Status.ToString()", limit: TimeSpan.FromSeconds(60)).ThrowIfFailed();
        Assert.Equal(["Cancelled", "True", "400", "Completed"], state.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void WaitBatchJob_WaitsForAJobRunningInAnotherRunspace()
    {
        _session.Run("$null = 1..40 | New-BatchJob { Start-Sleep -Milliseconds 20; $_ } -Name waited -ThrottleLimit 2").ThrowIfFailed();
        using var other = new PsSession(_session.Store);
        using var running = other.Start("$null = Invoke-BatchJob -Id waited");
        running.WaitUntil(_ => _session.Run("(Get-BatchJob -Name waited).Status.ToString()").Output.Single().ToString() != "Pending", TimeSpan.FromSeconds(20), "the job to start");

        var waited = _session.Run("$j = Wait-BatchJob -Id waited -Timeout 30; $j.Status.ToString(); $j.Succeeded").ThrowIfFailed();

        running.Wait(PsSession.DefaultLimit).ThrowIfFailed();
        Assert.Equal(["Completed", "40"], waited.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void TwoProcesses_BatchopsSeesAndCancelsAJobRunningInPowerShell()
    {
        _session.Run("$null = 1..2000 | New-BatchJob { Start-Sleep -Milliseconds 20; $_ } -Name shared -ThrottleLimit 2").ThrowIfFailed();
        using var running = _session.Start("@(Invoke-BatchJob -Id shared).Count");
        running.WaitUntil(r => r.Output.Count > 0 || _session.Batchops("show", "shared").Contains("Running", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the job to run");

        var cancel = _session.Batchops("cancel", "shared");
        running.Wait(TimeSpan.FromSeconds(20)).ThrowIfFailed();

        Assert.Contains("shared", _session.Batchops("list"), StringComparison.Ordinal);
        Assert.Equal("Cancelled", _session.Run("(Get-BatchJob -Name shared).Status.ToString()").Output.Single().ToString());
        Assert.False(string.IsNullOrWhiteSpace(cancel));
    }

    [Fact]
    public void PesterSuite_ParsesWithoutErrors()
    {
        // The Pester suite runs in a real host elsewhere; here PowerShell's own parser at least proves
        // every file is valid PowerShell.
        var folder = Path.Combine(_session.Module.Root, "tests", "pester");
        var files = Directory.GetFiles(folder, "*.ps1");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            System.Management.Automation.Language.Parser.ParseFile(file, out _, out var errors);
            Assert.True(errors.Length == 0, $"{Path.GetFileName(file)}: {string.Join("; ", errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"))}");
        }
    }
}
