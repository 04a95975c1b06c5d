BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    # A PostgreSQL store for the worker cases: a connection string or postgresql:// URI in this variable.
    $script:Shared = $env:BATCHOPS_TEST_POSTGRES
}

Describe 'Get-BatchWorker' {
    It 'refuses a SQLite store, naming the fix' {
        { Get-BatchWorker -ErrorAction Stop } | Should -Throw -ExpectedMessage '*postgresql://*'
    }

    It 'lists a running worker as Busy with its job, and forgets it once it stopped' {
        if (-not $script:Shared) {
            Set-ItResult -Skipped -Because 'BATCHOPS_TEST_POSTGRES is not set (a PostgreSQL database for the worker tests)'
            return
        }

        $name = "pester-list-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        1..400 | New-BatchJob -Store $script:Shared -Name $name -Queue -ChunkSize 10 -ThrottleLimit 2 -ScriptBlock { [Threading.Thread]::Sleep(50) } | Out-Null
        $worker = New-BatchSession
        $running = $worker.AddCommand('Start-BatchWorker').AddParameter('Store', $script:Shared).AddParameter('Name', $name).AddParameter('ExitWhenIdle').BeginInvoke()
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                [Threading.Thread]::Sleep(200)
                $listed = Get-BatchWorker -Store $script:Shared -Name $name -ErrorAction SilentlyContinue
            } until (($listed -and $listed.State -eq 'Busy') -or [DateTime]::UtcNow -gt $deadline)

            $listed.State | Should -Be 'Busy'
            $listed.ChunksHeld | Should -Be 1
            (Get-BatchJob -Store $script:Shared -Id $listed.Jobs).Name | Should -Be $name
            $listed.Kinds | Should -Contain 'scriptblock'
            $running.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(120)) | Should -BeTrue
        }
        finally {
            $worker.Dispose()
        }

        (Get-BatchJob -Store $script:Shared -Name $name).Status.ToString() | Should -Be 'Completed'
        Get-BatchWorker -Store $script:Shared -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'warns of a queued job that no running worker takes, naming the worker to start' {
        if (-not $script:Shared) {
            Set-ItResult -Skipped -Because 'BATCHOPS_TEST_POSTGRES is not set (a PostgreSQL database for the worker tests)'
            return
        }

        $name = "pester-wait-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        1..10 | New-BatchJob -Store $script:Shared -Name $name -Queue -ChunkSize 5 -ScriptBlock { $_ } | Out-Null
        $worker = New-BatchSession
        $null = $worker.AddCommand('Start-BatchWorker').AddParameter('Store', $script:Shared).AddParameter('Name', "$name-exec").AddParameter('Kind', 'exec').BeginInvoke()
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                [Threading.Thread]::Sleep(200)
                $listed = Get-BatchWorker -Store $script:Shared -WarningVariable said -WarningAction SilentlyContinue
                $line = @($said | Where-Object Message -Like "*'$name'*")
            } until (($line -and $listed.Name -contains "$name-exec") -or [DateTime]::UtcNow -gt $deadline)

            $line.Count | Should -Be 1
            $line[0].Message | Should -BeLike "Job '$name' (*): 2 chunk(s) of kind scriptblock wait for a worker that runs scriptblock; none running does. Start-BatchWorker in PowerShell runs every kind."
        }
        finally {
            $worker.Stop()
            $worker.Dispose()
        }

        # A worker that runs script blocks takes it, and nothing waits any more.
        Start-BatchWorker -Store $script:Shared -ExitWhenIdle
        (Get-BatchJob -Store $script:Shared -Name $name).Status.ToString() | Should -Be 'Completed'
        Get-BatchWorker -Store $script:Shared -WarningVariable after -WarningAction SilentlyContinue | Out-Null
        @($after | Where-Object Message -Like "*'$name'*").Count | Should -Be 0
    }
}
