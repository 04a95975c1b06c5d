BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:expected = @('Export-BatchJob', 'Get-BatchItem', 'Get-BatchJob', 'Get-BatchStatistics', 'Invoke-BatchJob',
        'New-BatchJob', 'Remove-BatchJob', 'Restart-BatchFailed', 'Stop-BatchJob', 'Wait-BatchJob')
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
        'Export-BatchJob', 'Get-BatchItem', 'Get-BatchJob', 'Get-BatchStatistics', 'Invoke-BatchJob',
        'New-BatchJob', 'Remove-BatchJob', 'Restart-BatchFailed', 'Stop-BatchJob', 'Wait-BatchJob') {
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
}
