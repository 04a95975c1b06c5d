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
}
