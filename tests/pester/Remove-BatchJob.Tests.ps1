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

    It 'removes jobs that ended longer ago than -OlderThan, in the statuses asked, after -WhatIf listed them' {
        if (-not (Get-Command sqlite3 -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because 'the sqlite3 tool (Debian package sqlite3) is needed to date a job back'
            return
        }

        $old = 1..50 | Invoke-BatchJob -Name aged -ScriptBlock { $_ } | Select-Object -First 1 | ForEach-Object JobId
        $null = 1..5 | Invoke-BatchJob -Name fresh -ScriptBlock { $_ }
        sqlite3 (Join-Path $env:BATCHOPS_HOME 'batchops.db') "UPDATE jobs SET ended_at = ended_at - 40 * 86400000 WHERE id = '$old';"

        Remove-BatchJob -OlderThan (New-TimeSpan -Days 30) -Status Completed -WhatIf
        (Get-BatchJob -Name aged) | Should -Not -BeNullOrEmpty

        Remove-BatchJob -OlderThan (New-TimeSpan -Days 30) -Status Completed -Confirm:$false
        Get-BatchJob -Name aged | Should -BeNullOrEmpty
        (Get-BatchJob -Name fresh).Status.ToString() | Should -Be 'Completed'
    }
}
