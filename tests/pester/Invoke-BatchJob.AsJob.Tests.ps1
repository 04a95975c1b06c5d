BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Invoke-BatchJob -AsJob' {
    It 'returns a job that works with Get-Job, Receive-Job, Wait-Job and Remove-Job' {
        $job = 1..40 | Invoke-BatchJob { Start-Sleep -Milliseconds 50; $_ * 2 } -Name background -ThrottleLimit 2 -AsJob
        $job | Should -BeOfType ([BatchOps.BatchBackgroundJob])
        $job.PSJobTypeName | Should -Be 'BatchOpsJob'
        (Get-Job -Id $job.Id).Name | Should -Be 'background'
        $results = Receive-Job $job -Wait
        $results.Count | Should -Be 40
        ($results | Sort-Object Index).Output | Should -Be (1..40 | ForEach-Object { $_ * 2 })
        $job.State | Should -Be 'Completed'
        (Get-BatchJob -Id $job.BatchJobId).Status | Should -Be 'Completed'
        Remove-Job $job
        Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'puts failed items in the job''s error stream' {
        $job = 1..5 | Invoke-BatchJob { if ($_ -eq 3) { throw 'three' }; $_ } -AsJob
        $null = Wait-Job $job -Timeout 30
        $out = Receive-Job $job -ErrorVariable failures -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 5
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'BatchOps.ItemFailed*'
    }

    It 'stops the batch job gracefully with Stop-Job and leaves it resumable' {
        $job = 1..400 | Invoke-BatchJob { Start-Sleep -Milliseconds 50; $_ } -Name stoppable -ThrottleLimit 2 -AsJob
        $deadline = (Get-Date).AddSeconds(20)
        while ($job.Output.Count -lt 4 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 20 }
        Stop-Job $job
        $job.State | Should -Be 'Stopped'
        $stopped = Get-BatchJob -Id $job.BatchJobId
        $stopped.Status | Should -Be 'Cancelled'
        (@(Invoke-BatchJob -Id $job.BatchJobId).Count + $stopped.Succeeded) | Should -Be 400
    }

    It 'retries failed items in the background with Restart-BatchFailed -AsJob' {
        $flag = Join-Path $TestDrive 'fixed'
        $null = 1..10 | Invoke-BatchJob { if ($_ % 2 -and -not (Test-Path $using:flag)) { throw 'odd' }; $_ } -Name retried -ErrorAction SilentlyContinue
        New-Item $flag | Out-Null
        $job = Restart-BatchFailed -Id retried -AsJob -Confirm:$false
        (Receive-Job $job -Wait | Sort-Object Index).Input | Should -Be @(1, 3, 5, 7, 9)
        (Get-BatchJob -Name retried).Status | Should -Be 'Completed'
    }
}
