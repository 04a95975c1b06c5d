using System.Management.Automation;
using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>The companion cmdlets as users pipe them: New, Get, Stop, Remove, Restart, Get-BatchItem, Export.</summary>
public sealed class JobCmdletTests : IDisposable
{
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    private string[] Lines(string script) => [.. _session.Run(script).ThrowIfFailed().Output.Select(o => o?.ToString() ?? string.Empty)];

    [Fact]
    public void NewBatchJob_StoresAPendingJobAndRunsNothing()
    {
        var lines = Lines("""
            $marker = [IO.Path]::Combine($Store, 'ran')
            $job = 1..200 | New-BatchJob { [IO.File]::WriteAllText($using:marker, 'x') } -Name defined -Tag nightly -ThrottleLimit 4
            $job -is [BatchOps.BatchJob]
            $job.Status.ToString()
            $job.Total
            $job.Settings.ThrottleLimit
            [IO.File]::Exists($marker)
            """);

        Assert.Equal(["True", "Pending", "200", "4", "False"], lines);
    }

    [Fact]
    public void NewBatchJob_ThenInvokeFromThePipeline_RunsTheStoredItems()
    {
        var lines = Lines("""
            $job = 1..20 | New-BatchJob { $_ * 3 } -Name later -KeyProperty Length
            (($job | Invoke-BatchJob) | Sort-Object Index).Output -join ','
            """);

        Assert.Equal(string.Join(',', Enumerable.Range(1, 20).Select(i => i * 3)), lines.Single());
    }

    [Fact]
    public void NewBatchJob_KeyProperty_KeysTheItems()
    {
        var lines = Lines("""
            $job = @([pscustomobject]@{ Host = 'web01' }, [pscustomobject]@{ Host = 'web02' }) | New-BatchJob { $_.Host } -KeyProperty Host -Name keyed
            (Get-BatchItem -Id $job.Id).Key -join ','
            (Invoke-BatchJob -Id $job.Id | Sort-Object Index).Output -join ','
            """);

        Assert.Equal(["web01,web02", "web01,web02"], lines);
    }

    [Fact]
    public void NewBatchJob_UnknownFunction_IsABindingStyleErrorWithAStableId()
    {
        var run = _session.Run("1 | New-BatchJob { $_ } -Function Get-NoSuchThing");

        Assert.Equal("BatchOps.FunctionNotFound,BatchOps.PowerShell.Commands.NewBatchJobCommand", Assert.Single(run.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void GetBatchJob_FindsJobsByWildcardTagStatusAndNewest()
    {
        var lines = Lines("""
            $null = 1..3 | Invoke-BatchJob { $_ } -Name 'web-patch' -Tag prod
            $null = 1..3 | Invoke-BatchJob { $_ } -Name 'db-patch' -Tag prod
            $null = 1..3 | Invoke-BatchJob { throw 'no' } -Name 'broken' -ErrorAction SilentlyContinue
            (Get-BatchJob -Name '*-patch' | Sort-Object Name).Name -join ','
            (Get-BatchJob -Tag prod | Sort-Object Name).Name -join ','
            (Get-BatchJob -Status Failed).Name
            (Get-BatchJob -Newest 1).Name
            $broken = Get-BatchJob -Name broken
            ($broken | Get-BatchJob).Id -eq $broken.Id
            "$($broken.Failed)/$($broken.Total)"
            """);

        Assert.Equal(["db-patch,web-patch", "db-patch,web-patch", "broken", "broken", "True", "3/3"], lines);
    }

    [Fact]
    public void GetBatchJob_PipedIntoStopAndRemove_ActsOnEachJob()
    {
        var lines = Lines("""
            $null = 1..3 | New-BatchJob { $_ } -Name pending-a
            $null = 1..3 | New-BatchJob { $_ } -Name pending-b
            (Get-BatchJob -Name 'pending-*' | Stop-BatchJob -Confirm:$false -PassThru | Sort-Object Name).Status -join ','
            Get-BatchJob -Name 'pending-*' | Remove-BatchJob -Confirm:$false
            @(Get-BatchJob -Name 'pending-*').Count
            """);

        Assert.Equal(["Cancelled,Cancelled", "0"], lines);
    }

    [Fact]
    public void RemoveBatchJob_JobThatNeverRan_IsRemoved()
    {
        var run = _session.Run("""
            $job = 1..3 | New-BatchJob { $_ } -Name doomed
            Remove-BatchJob -Id $job.Id -Confirm:$false
            @(Get-BatchJob -Id $job.Id -ErrorAction SilentlyContinue).Count
            """);

        Assert.Empty(run.Errors);
        Assert.Equal("0", run.Output.Single().ToString());
    }

    [Fact]
    public void RemoveBatchJob_WhatIf_KeepsTheJob()
    {
        var lines = Lines("""
            $job = 1..3 | New-BatchJob { $_ } -Name kept
            Remove-BatchJob -Id $job.Id -WhatIf
            @(Get-BatchJob -Id $job.Id).Count
            """);

        Assert.Equal("1", lines.Single());
    }

    [Fact]
    public void StopBatchJob_UnknownJob_WritesJobNotFound()
    {
        var run = _session.Run("Stop-BatchJob -Id nope -Confirm:$false");

        Assert.Equal("BatchOps.JobNotFound,BatchOps.PowerShell.Commands.StopBatchJobCommand", Assert.Single(run.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void RestartBatchFailed_PipedResults_RerunsOnlyThoseItemsAndKeepsTheirHistory()
    {
        var lines = Lines("""
            $flag = [IO.Path]::Combine($Store, 'fixed')
            $results = 1..20 | Invoke-BatchJob { if ($_ % 5 -eq 0 -and -not [IO.File]::Exists($using:flag)) { throw "bad $_" }; $_ } -Name flaky -ErrorAction SilentlyContinue
            [IO.File]::WriteAllText($flag, '')
            $retried = @($results | Where-Object Status -eq 'Failed' | Sort-Object Index)[0..1] | Restart-BatchFailed -Confirm:$false
            ($retried.Input | Sort-Object) -join ','
            (Get-BatchJob -Name flaky).Failed
            $retried = Restart-BatchFailed -Id flaky -Confirm:$false
            ($retried.Input | Sort-Object) -join ','
            (Get-BatchJob -Name flaky).Status.ToString()
            $history = Get-BatchItem -Id flaky -Index 4 -History | Where-Object { $_ -is [BatchOps.BatchItemHistory] }
            $history.Error.Message
            """);

        Assert.Equal(["5,10", "2", "15,20", "Completed", "bad 5"], lines);
    }

    [Fact]
    public void GetBatchItem_FiltersByStatusAndIndex()
    {
        var lines = Lines("""
            $null = 1..10 | Invoke-BatchJob { if ($_ -gt 8) { throw 'big' }; $_ } -Name items -ErrorAction SilentlyContinue
            (Get-BatchItem -Id items -Status Failed).Index -join ','
            (Get-BatchItem -Id items -Index 0, 1).Output -join ','
            (Get-BatchItem -Id items -Status Failed)[0].Error.Message
            """);

        Assert.Equal(["8,9", "1,2", "big"], lines);
    }

    [Fact]
    public void ExportBatchJob_WritesJsonAndCsvFiles()
    {
        var lines = Lines("""
            $null = 1..5 | Invoke-BatchJob { $_ } -Name exported
            $json = Export-BatchJob -Id exported -Path ([IO.Path]::Combine($Store, 'e.json'))
            $csv = Export-BatchJob -Id exported -Format Csv -Path ([IO.Path]::Combine($Store, 'e.csv'))
            $json -is [IO.FileInfo]
            [Text.Json.JsonDocument]::Parse([IO.File]::ReadAllText($json.FullName)).RootElement.GetProperty('items').GetArrayLength()
            $lines = [IO.File]::ReadAllLines($csv.FullName)
            $lines.Count
            $lines[1].EndsWith(',1,1')
            """);

        // Plain inputs and outputs (stored as CliXml) are shown as their values.
        Assert.Equal(["True", "5", "6", "True"], lines);
    }

    [Fact]
    public void GetBatchStatistics_CountsJobsByStatus()
    {
        var lines = Lines("""
            $null = 1..3 | Invoke-BatchJob { $_ } -Name s1
            $null = 1 | Invoke-BatchJob { throw 'x' } -Name s2 -ErrorAction SilentlyContinue
            $stats = Get-BatchStatistics
            $stats -is [BatchOps.BatchStatistics]
            $stats.Jobs
            $stats.ByStatus[[BatchOps.JobStatus]::Completed]
            $stats.Items
            """);

        Assert.Equal(["True", "2", "1", "4"], lines);
    }

    [Fact]
    public void StoredInputsAndOutputs_ReadBackWithTheirTypesValuesAndNotes()
    {
        var lines = Lines("""
            $noted = [psobject]5
            $noted.PSObject.Properties.Add([psnoteproperty]::new('Tag', 'kept'))
            $named = [psobject]'typed'
            $named.PSObject.TypeNames.Insert(0, 'My.Type')
            $inputs = @(5, [long]6, 'a<b&c>"d', 'x_x0041_y', "line`nbreak", $true, 2.5, [guid]'0b8a3d2e-6f1c-4a5b-9e7d-3c2f1a0b9e8d', $noted, $named, [pscustomobject]@{ A = 1 }, "caf$([char]0xE9)")
            $null = $inputs | Invoke-BatchJob { $_ } -Name typed-io -ThrottleLimit 1
            $items = Get-BatchItem -Id typed-io | Sort-Object Index
            foreach ($item in $items) { '{0}|{1}|{2}' -f $item.Input.GetType().Name, "$($item.Input)", ($item.Output -eq $item.Input -or "$($item.Output)" -eq "$($item.Input)") }
            $items[8].Input.Tag
            $items[9].Input.PSObject.TypeNames[0]
            $items[10].Input.A
            """);

        Assert.Equal(
        [
            "Int32|5|True", "Int64|6|True", "String|a<b&c>\"d|True", "String|x_x0041_y|True", "String|line\nbreak|True", "Boolean|True|True", "Double|2.5|True",
            "Guid|0b8a3d2e-6f1c-4a5b-9e7d-3c2f1a0b9e8d|True", "Int32|5|True", "String|typed|True", "PSCustomObject|@{A=1}|True", "String|café|True",
            "kept", "Deserialized.My.Type", "1",
        ], lines);
    }

    [Fact]
    public void Results_SerializeAndDeserializeAsPowerShellDoesForExportClixmlAndRemoting()
    {
        var lines = Lines("""
            $result = 1..2 | Invoke-BatchJob { if ($_ -eq 2) { throw 'two' }; "out $_" } -Name serialized -ErrorAction SilentlyContinue | Sort-Object Index
            $job = Get-BatchJob -Name serialized
            $back = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($result, 3))
            $jobBack = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($job, 3))
            $back[0].PSObject.TypeNames[0]
            "$($back[0].Status.ToString()) $($back[0].Output) $($back[1].Status.ToString()) $($back[1].Error.Message)"
            "$($jobBack.Name) $($jobBack.Status.ToString()) $($jobBack.Failed) $($jobBack.Settings.ThrottleLimit)"
            """);

        Assert.Equal(["Deserialized.BatchOps.BatchItemResult", "Succeeded out 1 Failed two", "serialized CompletedWithErrors 1 "], lines);
    }
}
