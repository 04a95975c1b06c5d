BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Remove-BatchJob' {
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
