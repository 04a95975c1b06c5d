BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    1..4 | Invoke-BatchJob { $_ } -Name stats -Tag metrics | Out-Null
}

Describe 'Get-BatchStatistics' {
    It 'counts jobs and items' {
        $stats = Get-BatchStatistics
        $stats.Jobs | Should -BeGreaterOrEqual 1
        $stats.ByTag['metrics'] | Should -Be 1
        $stats.Items | Should -BeGreaterOrEqual 4
        $stats.SucceededItems | Should -BeGreaterOrEqual 4
    }
}
