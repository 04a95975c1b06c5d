BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:expected = @('Export-BatchJob', 'Get-BatchItem', 'Get-BatchJob', 'Get-BatchStatistics', 'Get-BatchWorker', 'Invoke-BatchJob',
        'New-BatchJob', 'Remove-BatchJob', 'Restart-BatchFailed', 'Start-BatchDashboard', 'Start-BatchWorker',
        'Stop-BatchDashboard', 'Stop-BatchJob', 'Stop-BatchWorker', 'Undo-BatchJob', 'Wait-BatchJob', 'Write-BatchTable')
}

Describe 'The BatchOps module' {
    It 'exports exactly its cmdlets' {
        (Get-Command -Module BatchOps).Name | Sort-Object | Should -Be $script:expected
    }

    It 'loads its engine in a private load context, not the default one' {
        Get-BatchJob | Out-Null
        $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'BatchOps.Engine' }
        $engine | Should -Not -BeNullOrEmpty
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name | Should -Be 'BatchOps'
    }

    It 'has help for <_> with synopsis, description, parameters and two examples' -ForEach @(
        'Export-BatchJob', 'Get-BatchItem', 'Get-BatchJob', 'Get-BatchStatistics', 'Get-BatchWorker', 'Invoke-BatchJob',
        'New-BatchJob', 'Remove-BatchJob', 'Restart-BatchFailed', 'Start-BatchDashboard', 'Start-BatchWorker',
        'Stop-BatchDashboard', 'Stop-BatchJob', 'Stop-BatchWorker', 'Undo-BatchJob', 'Wait-BatchJob', 'Write-BatchTable') {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "*$_*[<]*"
        $help.Description.Text | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($parameter in (Get-Command $_).Parameters.Values | Where-Object { $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_.Name -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters }) {
            ($help.Parameters.Parameter | Where-Object Name -EQ $parameter.Name).Description.Text | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs a description"
        }
    }

    It 'ships about_BatchOps' {
        Get-Help about_BatchOps | Out-String | Should -Match 'worker runspaces'
    }

    It 'completes job names and ids for <Line>' -ForEach @(
        @{ Line = 'Get-BatchJob -Id ' }, @{ Line = 'Get-BatchJob -Name ' }, @{ Line = 'Invoke-BatchJob -Id ' }, @{ Line = 'Stop-BatchJob -Id ' },
        @{ Line = 'Remove-BatchJob -Id ' }, @{ Line = 'Restart-BatchFailed -Id ' }, @{ Line = 'Get-BatchItem -Id ' }, @{ Line = 'Export-BatchJob -Id ' }, @{ Line = 'Wait-BatchJob -Id ' }
    ) {
        $job = 1 | New-BatchJob { $_ } -Name 'alpha-job'
        $found = (TabExpansion2 -inputScript "${Line}alp" -cursorColumn ($Line.Length + 3)).CompletionMatches.CompletionText
        $found | Should -Contain 'alpha-job'
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText | Should -Contain $job.Id
    }

    It 'works again after Remove-Module and Import-Module' {
        Remove-Module BatchOps
        Import-Module (Join-Path $modulePath 'BatchOps.psd1')
        (1..3 | Invoke-BatchJob { $_ * 2 }).Output | Sort-Object | Should -Be @(2, 4, 6)
    }

    It 'round-trips results through Export-Clixml and Import-Clixml' {
        $path = Join-Path $TestDrive 'results.xml'
        1..2 | Invoke-BatchJob { if ($_ -eq 2) { throw 'two' }; "out $_" } -ErrorAction SilentlyContinue | Sort-Object Index | Export-Clixml $path
        $back = Import-Clixml $path
        $back[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.BatchOps.BatchItemResult'
        $back[0].Output | Should -Be 'out 1'
        $back[1].Status.ToString() | Should -Be 'Failed'
        $back[1].Error.Message | Should -Be 'two'
    }

    It 'lets two sessions run jobs on one store at once' {
        $first = New-BatchSession
        $second = New-BatchSession
        $a = $first.AddScript({ (1..300 | Invoke-BatchJob { Start-Sleep -Milliseconds 2; $_ } -ThrottleLimit 4 -Name from-first).Count }).BeginInvoke()
        $b = $second.AddScript({ (1..300 | Invoke-BatchJob { Start-Sleep -Milliseconds 2; $_ } -ThrottleLimit 4 -Name from-second).Count }).BeginInvoke()
        $first.EndInvoke($a) | Should -Be 300
        $second.EndInvoke($b) | Should -Be 300
        $first.Dispose(); $second.Dispose()
        (Get-BatchJob -Name 'from-*').Status | ForEach-Object ToString | Sort-Object -Unique | Should -Be 'Completed'
    }
}
