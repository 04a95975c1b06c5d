BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    # A PostgreSQL store for the worker cases: a connection string or postgresql:// URI in this variable.
    $script:Shared = $env:BATCHOPS_TEST_POSTGRES
}

Describe 'Stop-BatchWorker' {
    It 'refuses a SQLite store, naming the fix' {
        { Stop-BatchWorker -Name any -ErrorAction Stop } | Should -Throw -ExpectedMessage '*postgresql://*'
    }

    It 'asks a running worker to stop: it finishes its chunks, returns, and another worker runs the rest once each' {
        if (-not $script:Shared) {
            Set-ItResult -Skipped -Because 'BATCHOPS_TEST_POSTGRES is not set (a PostgreSQL database for the worker tests)'
            return
        }

        $name = "pester-stop-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        1..300 | New-BatchJob -Store $script:Shared -Name $name -Queue -ChunkSize 10 -ThrottleLimit 2 -ScriptBlock { [Threading.Thread]::Sleep(50); $_ } | Out-Null
        $worker = New-BatchSession
        $running = $worker.AddCommand('Start-BatchWorker').AddParameter('Store', $script:Shared).AddParameter('Name', $name).AddParameter('Lease', 3).BeginInvoke()
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                [Threading.Thread]::Sleep(200)
                $listed = Get-BatchWorker -Store $script:Shared -Name $name -State Busy -ErrorAction SilentlyContinue
            } until ($listed -or [DateTime]::UtcNow -gt $deadline)
            $listed | Should -Not -BeNullOrEmpty

            Stop-BatchWorker -Store $script:Shared -Name $name -WhatIf
            (Get-BatchWorker -Store $script:Shared -Name $name).State | Should -Not -Be 'Stopping'

            $asked = $listed | Stop-BatchWorker -Store $script:Shared -PassThru -Wait
            $asked.State | Should -Be 'Stopping'
            $running.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue
            $worker.Streams.Error | Should -BeNullOrEmpty
            ($worker.Streams.Warning.Message -join "`n") | Should -BeLike '*stopasked*'
        }
        finally {
            $worker.Dispose()
        }

        Get-BatchWorker -Store $script:Shared -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $job = Get-BatchJob -Store $script:Shared -Name $name
        $job.Succeeded % 10 | Should -Be 0
        $job.Succeeded | Should -BeLessThan 300

        Start-BatchWorker -Store $script:Shared -Name "$name-rest" -ExitWhenIdle
        $job = Get-BatchJob -Store $script:Shared -Name $name
        $job.Status.ToString() | Should -Be 'Completed'
        $job.Succeeded | Should -Be 300
    }

    It 'writes WorkerNotFound for a name that matches no worker' {
        if (-not $script:Shared) {
            Set-ItResult -Skipped -Because 'BATCHOPS_TEST_POSTGRES is not set (a PostgreSQL database for the worker tests)'
            return
        }

        Stop-BatchWorker -Store $script:Shared -Name 'no-such-worker' -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'BatchOps.WorkerNotFound*'
    }
}
