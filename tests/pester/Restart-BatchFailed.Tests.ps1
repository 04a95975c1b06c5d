BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Restart-BatchFailed' {
    It 'runs only the failed items and keeps their earlier error' {
        $flag = Join-Path $TestDrive 'fixed'
        1..20 | Invoke-BatchJob { if ($_ % 5 -eq 0 -and -not (Test-Path $using:flag)) { throw "bad $_" } $_ } -Name flaky -ErrorAction SilentlyContinue | Out-Null
        (Get-BatchJob -Name flaky).Failed | Should -Be 4
        New-Item $flag | Out-Null

        $retried = Restart-BatchFailed -Id flaky -Confirm:$false
        $retried.Count | Should -Be 4
        ($retried.Input | Sort-Object) | Should -Be @(5, 10, 15, 20)
        (Get-BatchJob -Name flaky).Status.ToString() | Should -Be 'Completed'
        (Get-BatchItem -Id flaky -Index 4 -History | Where-Object { $_ -isnot [BatchOps.BatchItemResult] }).Error.Message | Should -BeLike '*bad 5*'
    }

    It 'retries only the piped items' {
        1..6 | Invoke-BatchJob { throw 'always' } -Name chosen -ErrorAction SilentlyContinue | Out-Null
        $retried = Get-BatchItem -Id chosen -Index 1, 2 | Restart-BatchFailed -Confirm:$false -ErrorAction SilentlyContinue
        $retried.Count | Should -Be 2
    }

    It 'reruns only the failed results piped into it' {
        $flag = Join-Path $TestDrive 'fixed-piped'
        $results = 1..20 | Invoke-BatchJob { if ($_ % 5 -eq 0 -and -not (Test-Path $using:flag)) { throw "bad $_" }; $_ } -Name piped -ErrorAction SilentlyContinue
        New-Item $flag | Out-Null
        $retried = $results | Where-Object Status -EQ 'Failed' | Sort-Object Index | Select-Object -First 2 | Restart-BatchFailed -Confirm:$false
        ($retried.Input | Sort-Object) | Should -Be @(5, 10)
        (Get-BatchJob -Name piped).Failed | Should -Be 2
    }
}
