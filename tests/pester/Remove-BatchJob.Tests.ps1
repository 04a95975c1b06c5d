BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Remove-BatchJob' {
    It 'removes a job that never ran (no log file yet)' {
        $job = 1..3 | New-BatchJob { $_ } -Name never-ran
        { Remove-BatchJob -Id $job.Id -Confirm:$false -ErrorAction Stop } | Should -Not -Throw
        Get-BatchJob -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'removes a job and its items' {
        $job = 1..3 | New-BatchJob { $_ } -Name doomed
        Remove-BatchJob -Id $job.Id -Confirm:$false
        Get-BatchJob -Id $job.Id | Should -BeNullOrEmpty
    }

    It 'keeps the job with -WhatIf' {
        $job = 1..3 | New-BatchJob { $_ } -Name kept
        Remove-BatchJob -Id $job.Id -WhatIf
        Get-BatchJob -Id $job.Id | Should -Not -BeNullOrEmpty
    }
}
