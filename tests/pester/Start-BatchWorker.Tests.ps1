BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    # A PostgreSQL store for the worker cases: a connection string or postgresql:// URI in this variable.
    $script:Shared = $env:BATCHOPS_TEST_POSTGRES
}

Describe 'New-BatchJob -Queue and Start-BatchWorker' {
    It 'refuses -Queue on a SQLite store, naming the fix, and creates nothing' {
        { 1..3 | New-BatchJob -Name local-queue -Queue -ScriptBlock { $_ } -ErrorAction Stop } |
            Should -Throw -ExpectedMessage '*postgresql://*'
        Get-BatchJob -Name local-queue | Should -BeNullOrEmpty
    }

    It 'refuses to start a worker on a SQLite store' {
        { Start-BatchWorker -ExitWhenIdle -ErrorAction Stop } | Should -Throw -ExpectedMessage '*PostgreSQL store*'
    }

    It 'queues a job that returns at once, and a worker runs every item' {
        if (-not $script:Shared) {
            Set-ItResult -Skipped -Because 'BATCHOPS_TEST_POSTGRES is not set (a PostgreSQL database for the worker tests)'
            return
        }

        $name = "pester-queue-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $job = 1..50 | New-BatchJob -Store $script:Shared -Name $name -Queue -ChunkSize 10 -ScriptBlock { $_ * 3 }
        $job.Status.ToString() | Should -Be 'Queued'

        Start-BatchWorker -Store $script:Shared -ExitWhenIdle

        $done = Get-BatchJob -Store $script:Shared -Name $name
        $done.Status.ToString() | Should -Be 'Completed'
        $done.Succeeded | Should -Be 50
        (Get-BatchItem -Store $script:Shared -Id $name -Index 9).Output | Should -Be 30
    }

    It 'queues a staged job, and workers run each stage after the stages it depends on' {
        if (-not $script:Shared) {
            Set-ItResult -Skipped -Because 'BATCHOPS_TEST_POSTGRES is not set (a PostgreSQL database for the worker tests)'
            return
        }

        $name = "pester-staged-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $job = New-BatchJob -Store $script:Shared -Name $name -Queue -Stage @{
            Name = 'users'; DependsOn = 'networks'; InputObject = 1..20; ChunkSize = 5; ScriptBlock = { "user-$_" }
        }, @{
            Name = 'networks'; InputObject = 1..4; ScriptBlock = { "net-$_" }
        }
        $job.Status.ToString() | Should -Be 'Queued'

        Start-BatchWorker -Store $script:Shared -ExitWhenIdle

        $done = Get-BatchJob -Store $script:Shared -Name $name
        $done.Status.ToString() | Should -Be 'Completed'
        $done.Succeeded | Should -Be 24
        $last = Get-BatchItem -Store $script:Shared -Id $name -Stage networks | Sort-Object EndedAt | Select-Object -Last 1
        $first = Get-BatchItem -Store $script:Shared -Id $name -Stage users | Sort-Object StartedAt | Select-Object -First 1
        $first.StartedAt | Should -BeGreaterThan $last.EndedAt
    }
}
