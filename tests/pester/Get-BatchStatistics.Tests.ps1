BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    1..4 | Invoke-BatchJob { $_ } -Name stats -Tag metrics | Out-Null
    Invoke-BatchJob -Name stats-staged -ErrorAction SilentlyContinue -Stage @{
        Name = 'check'; InputObject = 1..20; ScriptBlock = { if ($_ -eq 7) { throw 'seven' }; $_ }
    }, @{
        Name = 'apply'; DependsOn = 'check'; InputObject = 1..5; ScriptBlock = { $_ }
    } | Out-Null
}

Describe 'Get-BatchStatistics' {
    It 'counts jobs and items' {
        $stats = Get-BatchStatistics
        $stats.Jobs | Should -BeGreaterOrEqual 1
        $stats.ByTag['metrics'] | Should -Be 1
        $stats.Items | Should -BeGreaterOrEqual 4
        $stats.SucceededItems | Should -BeGreaterOrEqual 4
    }

    It 'reports each stage of a piped job with its counts and rate' {
        $stages = Get-BatchJob -Name stats-staged | Get-BatchStatistics
        $stages.Stage | Should -Be @('check', 'apply')
        $stages[0].Status | Should -Be 'CompletedWithErrors'
        $stages[0].Succeeded, $stages[0].Failed | Should -Be @(19, 1)
        $stages[0].ItemsPerSecond | Should -BeGreaterThan 0
        $stages[1].Status | Should -Be 'Skipped'
        $stages[1].Skipped | Should -Be 5
    }

    It 'says which stages a job has when -Stage names none of them' {
        { Get-BatchStatistics -Id stats-staged -Stage aply -ErrorAction Stop } | Should -Throw -ErrorId 'BatchOps.StageNotFound,*' -ExpectedMessage '*Its stages: check, apply.'
    }

    It 'reports a job without stages as one row' {
        $row = Get-BatchStatistics -Id stats
        $row.Stage | Should -BeNullOrEmpty
        $row.Items | Should -Be 4
        ($row | Out-String) | Should -Match '\(job\)\s+Completed\s+4'
    }
}
