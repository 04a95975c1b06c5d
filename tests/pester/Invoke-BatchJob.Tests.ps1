BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Invoke-BatchJob' {
    It 'runs 1..200 in parallel and outputs one result per item' {
        $results = 1..200 | Invoke-BatchJob { $_ * 2 } -Name doubling -ThrottleLimit 8 -ChunkSize 25
        $results.Count | Should -Be 200
        ($results | Sort-Object Index | ForEach-Object Output) | Should -Be (1..200 | ForEach-Object { $_ * 2 })
        $results | ForEach-Object { $_.Status.ToString() } | Sort-Object -Unique | Should -Be 'Succeeded'
        (Get-BatchJob -Name doubling).Status.ToString() | Should -Be 'Completed'
    }

    It 'keeps input order with -ThrottleLimit 1' {
        $results = 1..50 | Invoke-BatchJob { $_ } -ThrottleLimit 1
        $results.Index | Should -Be (0..49)
    }

    It 'keeps input order in parallel with -PreserveOrder' {
        $results = 1..40 | Invoke-BatchJob { Start-Sleep -Milliseconds (Get-Random -Maximum 20); $_ } -ThrottleLimit 6 -PreserveOrder
        $results.Output | Should -Be (1..40)
    }

    It 'outputs failed items as objects and as errors with ErrorId <ErrorId>' -ForEach @(
        @{ Script = { if ($_ % 10 -eq 0) { throw "bad $_" } else { $_ } }; ErrorId = 'BatchOps.ItemFailed' }
        @{ Script = { if ($_ % 10 -eq 0) { Start-Sleep -Seconds 30 } else { $_ } }; ErrorId = 'BatchOps.ItemTimedOut' }
    ) {
        $results = 1..20 | Invoke-BatchJob $Script -TimeoutSeconds 2 -ErrorVariable failures -ErrorAction SilentlyContinue
        @($results | Where-Object Succeeded).Count | Should -Be 18
        $failures.Count | Should -Be 2
        $failures[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $failures[0].TargetObject | Should -BeOfType ([BatchOps.BatchItemResult])
        $failures.TargetObject.Status | ForEach-Object ToString | Sort-Object -Unique | Should -Be 'Failed'
    }

    It 'sets $? to false when an item failed' {
        1..3 | Invoke-BatchJob { if ($_ -eq 2) { throw 'two' } } -ErrorAction SilentlyContinue | Out-Null
        $? | Should -BeFalse
    }

    It 'retries failed attempts' {
        $marker = Join-Path $TestDrive 'attempts'
        $results = 1..3 | Invoke-BatchJob {
            $file = "$using:marker-$_"
            Add-Content $file 'x'
            if ((Get-Content $file).Count -lt 3) { throw 'not yet' }
            'ok'
        } -RetryCount 3 -RetryDelay 0.05
        $results.Attempts | Should -Be @(3, 3, 3)
        $results.Output | Should -Be @('ok', 'ok', 'ok')
    }

    It 'passes $using:, -ArgumentList and -Function to the workers' {
        $offset = 100
        function Add-Offset { param($Value, $By) $Value + $By }
        $results = 1..5 | Invoke-BatchJob { param($item, $factor) (Add-Offset $item $using:offset) * $factor } -ArgumentList 2 -Function Add-Offset
        ($results | Sort-Object Index).Output | Should -Be @(202, 204, 206, 208, 210)
    }

    It 'runs in the caller runspace with -UseCallerRunspace' {
        $callerOnly = 'visible'
        $results = 1..3 | Invoke-BatchJob { "$callerOnly $_" } -ThrottleLimit 1 -UseCallerRunspace
        $results.Output | Should -Be @('visible 1', 'visible 2', 'visible 3')
    }

    It 'stops after the first failure with -StopOnError and reports the stop' {
        $results = 1..100 | Invoke-BatchJob { if ($_ -eq 5) { throw 'five' } $_ } -ThrottleLimit 1 -ChunkSize 10 -StopOnError -ErrorVariable failures -ErrorAction SilentlyContinue
        ($failures | Where-Object FullyQualifiedErrorId -Like 'BatchOps.JobFailed,*') | Should -Not -BeNullOrEmpty
        @($results | Where-Object { $_.Status.ToString() -eq 'Skipped' }).Count | Should -BeGreaterThan 0
        @($results | Where-Object Succeeded).Count | Should -Be 4
    }

    It 'isolates bad items of a -ChunkScriptBlock by bisection' {
        $results = 1..64 | Invoke-BatchJob -ChunkScriptBlock { if ($_ -contains 13) { throw 'thirteen' } $_ | ForEach-Object { $_ * 10 } } -ChunkSize 16 -ErrorAction SilentlyContinue
        ($results | Where-Object { -not $_.Succeeded }).Input | Should -Be 13
        ($results | Where-Object Index -EQ 0).Output | Should -Be 10
    }

    It 'rejects an invalid setting before running anything' {
        { 1..3 | Invoke-BatchJob { $_ } -TimeoutSeconds 0 -Name never } | Should -Throw -ErrorId 'BatchOps.InvalidSetting'
        Get-BatchJob -Name never | Should -BeNullOrEmpty
    }

    It 'creates and runs nothing with -WhatIf' {
        1..3 | Invoke-BatchJob { $_ } -Name whatif -WhatIf
        Get-BatchJob -Name whatif | Should -BeNullOrEmpty
    }

    It 'runs a stored job with -Id and only its unfinished items' {
        $job = 1..10 | New-BatchJob { $_ + 1 } -Name stored
        $results = Invoke-BatchJob -Id $job.Id
        $results.Count | Should -Be 10
        @(Invoke-BatchJob -Id $job.Id).Count | Should -Be 0
    }
}
