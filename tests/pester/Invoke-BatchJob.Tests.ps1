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

    It 'streams results to the next command while input still arrives' {
        # The input buffer and the chunks in flight hold a few hundred items at most.
        $seen = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
        $script:early = $null
        & { foreach ($i in 1..2000) { if ($i -eq 1000) { $script:early = $seen.Count }; $i } } |
            Invoke-BatchJob { $_ } -Name streaming -ThrottleLimit 2 -ChunkSize 10 |
            ForEach-Object { $seen.Enqueue($_) }
        $script:early | Should -BeGreaterThan 0
        $seen.Count | Should -Be 2000
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

    It 'lets mocks reach an -AsJob run when UseCallerRunspace comes from $PSDefaultParameterValues' {
        function Set-Thing { param($Name) "real $Name" }
        Mock Set-Thing { "mocked $Name" }
        $PSDefaultParameterValues['*-Batch*:UseCallerRunspace'] = $true
        try {
            $job = 1..4 | Invoke-BatchJob { Set-Thing -Name $_ } -AsJob -ThrottleLimit 16
            $results = $job | Wait-Job | Receive-Job
        }
        finally {
            $PSDefaultParameterValues.Remove('*-Batch*:UseCallerRunspace')
        }
        ($results | Sort-Object Index).Output | Should -Be @('mocked 1', 'mocked 2', 'mocked 3', 'mocked 4')
        Should -Invoke Set-Thing -Times 4 -Exactly
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
        { 1..3 | Invoke-BatchJob { $_ } -TimeoutSeconds 0 -Name never } | Should -Throw -ErrorId 'BatchOps.InvalidSetting,BatchOps.PowerShell.Commands.InvokeBatchJobCommand'
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

    It 'outputs types that resolve by name in the session' {
        function Test-Typed { param([BatchOps.BatchItemResult] $Result) $Result.Index }
        $result = 1 | Invoke-BatchJob { $_ } -Name typed
        $result | Should -BeOfType ([BatchOps.BatchItemResult])
        Test-Typed $result | Should -Be 0
        $result.Status | Should -Be ([BatchOps.ItemStatus]::Succeeded)
        (Get-BatchJob -Name typed).Status | Should -Be ([BatchOps.JobStatus]::Completed)
        ($result | Get-Member)[0].TypeName -as [type] | Should -Not -BeNullOrEmpty
    }

    It 'takes -RetryDelay as <Case>' -ForEach @(
        @{ Case = 'seconds'; Delay = 0.05 }
        @{ Case = 'a TimeSpan'; Delay = [timespan]'0:0:0.05' }
        @{ Case = 'a TimeSpan string'; Delay = '00:00:00.05' }
    ) {
        $null = 1 | Invoke-BatchJob { $_ } -RetryCount 1 -RetryDelay $Delay -Name "delay-$Case"
        (Get-BatchJob -Name "delay-$Case").Settings.RetryDelay.TotalMilliseconds | Should -Be 50
    }

    It 'returns promptly with the rest Skipped after <Policy>' -ForEach @(
        @{ Policy = 'StopOnError'; Script = { 1..100 | Invoke-BatchJob { if ($_ -eq 5) { throw 'five' }; $_ } -ThrottleLimit 1 -ChunkSize 10 -StopOnError -ErrorAction SilentlyContinue } }
        @{ Policy = 'MaxErrors'; Script = { 1..200 | Invoke-BatchJob { if ($_ % 3 -eq 0) { throw 'three' }; $_ } -ThrottleLimit 2 -ChunkSize 20 -MaxErrors 3 -ErrorAction SilentlyContinue } }
        @{ Policy = 'JobTimeoutSeconds'; Script = { 1..50 | Invoke-BatchJob { Start-Sleep -Seconds 60; $_ } -ThrottleLimit 2 -JobTimeoutSeconds 1 -ErrorAction SilentlyContinue } }
    ) {
        $results = Invoke-Bounded $Script -Seconds 30
        @($results | Where-Object { $_.Status -eq 'Skipped' }).Count | Should -BeGreaterThan 0
        @($results | Where-Object { $_.Status -eq 'Succeeded' }).Count | Should -BeLessThan $results.Count
    }

    It 'stops at Ctrl+C within seconds, leaves the job Cancelled, and a resume runs each item once' {
        $ran = Join-Path $TestDrive 'ran'
        $null = New-Item -ItemType Directory $ran
        $null = 1..200 | New-BatchJob { New-Item -ItemType File (Join-Path $using:ran "$_.$([guid]::NewGuid())") | Out-Null; Start-Sleep -Milliseconds 50; $_ } -Name interrupted -ThrottleLimit 4
        $session = New-BatchSession
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $async = $session.AddScript({ Invoke-BatchJob -Id interrupted }).BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        $deadline = (Get-Date).AddSeconds(30)
        while ($output.Count -lt 20 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $session.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
        $session.Dispose()
        (Get-BatchJob -Name interrupted).Status | Should -Be 'Cancelled'
        $null = Invoke-BatchJob -Id interrupted
        (Get-BatchJob -Name interrupted).Status | Should -Be 'Completed'
        $counts = Get-ChildItem $ran | Group-Object { $_.Name.Split('.')[0] }
        $counts.Count | Should -Be 200
        @($counts | Where-Object Count -GT 1) | Should -BeNullOrEmpty
    }

    It 'forwards Warning, Verbose, Information and Debug records from the workers' {
        $DebugPreference = 'Continue'
        $null = 1..3 | Invoke-BatchJob {
            Write-Warning "warn $_"; Write-Verbose "verbose $_"; Write-Information "info $_"; Write-Debug "debug $_"; $_
        } -Verbose -InformationAction Continue -WarningVariable warnings -InformationVariable infos 4>&1 5>&1 | Out-Null
        @($warnings).Count | Should -Be 3
        @($infos).Count | Should -Be 3
    }

    It 'ends only the item on break, continue or Write-Error' {
        $results = 1..4 | Invoke-BatchJob { if ($_ -eq 1) { continue }; if ($_ -eq 2) { break }; if ($_ -eq 3) { Write-Error 'three' }; $_ } -ThrottleLimit 1 -ErrorAction SilentlyContinue
        ($results | Sort-Object Index).Status.ForEach({ "$_" }) | Should -Be @('Succeeded', 'Succeeded', 'Failed', 'Succeeded')
    }

    It 'does not carry variables or functions from one run to the next' {
        $value = 'first'
        function Get-Marker { 'marker' }
        $null = 1..4 | Invoke-BatchJob { $global:leak = $using:value; Get-Marker } -ThrottleLimit 2 -Function Get-Marker
        $value = 'second'
        (1..4 | Invoke-BatchJob { "$($global:leak)|$using:value|$([bool](Get-Command Get-Marker -ErrorAction Ignore))" } -ThrottleLimit 2).Output | Sort-Object -Unique | Should -Be '|second|False'
    }

    It 'keeps a 200,000-item pipeline flat in memory when results are discarded' {
        $null = 1..20000 | Invoke-BatchJob { $_ } -Name small
        [GC]::Collect()
        $before = [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
        $null = 1..200000 | Invoke-BatchJob { $_ } -Name large
        $after = [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
        $after / $before | Should -BeLessOrEqual 1.5
    }

    It 'renders the default table and list views with readable columns' {
        $results = 1..3 | Invoke-BatchJob { "out $_" } -Name rendered
        $table = $results | Format-Table | Out-String -Width 120
        $table | Should -Match 'Index\s+Key\s+Status\s+Attempts\s+Duration\s+Output / Error'
        $table | Should -Match 'Succeeded'
        Get-BatchJob -Name rendered | Format-List | Out-String | Should -Match 'Items\s*:\s*3 total: 3 succeeded'
    }

    It 'gives the script block $BatchContext with a stable idempotency key' {
        $results = 'a', 'b' | ForEach-Object { [pscustomobject]@{ Name = $_ } } | Invoke-BatchJob {
            if ($BatchContext.Attempt -eq 1 -and $_.Name -eq 'b') { throw 'first try' }
            "$($BatchContext.IdempotencyKey)/$($BatchContext.Attempt)"
        } -KeyProperty Name -RetryCount 1 -RetryDelay 0.01 -Name context
        $id = (Get-BatchJob -Name context).Id
        ($results | Sort-Object Index).Output | Should -Be @("${id}:key:a/1", "${id}:key:b/2")
    }
}
