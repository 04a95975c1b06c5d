BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Stages, rollback and Undo-BatchJob' {
    It 'runs -Stage stages in dependency order and tags results with their stage' {
        $results = Invoke-BatchJob -Name provision -ThrottleLimit 1 -Stage @{
            Name = 'users'; DependsOn = 'networks'; InputObject = 'ann', 'bob'; ScriptBlock = { "user-$_" }
        }, @{
            Name = 'networks'; InputObject = 'net1'; ScriptBlock = { "net-$_" }
        }
        ($results | ForEach-Object { "$($_.Stage):$($_.Output)" }) | Should -Be @('networks:net-net1', 'users:user-ann', 'users:user-bob')
        (Get-BatchJob -Name provision).Stages | Should -Be @('networks', 'users')
        (Get-BatchItem -Id provision -Stage users).Count | Should -Be 2
    }

    It 'skips a stage whose dependency did not complete' {
        $null = Invoke-BatchJob -Name blocked -Stage @{
            Name = 'users'; DependsOn = 'networks'; InputObject = 'ann'; ScriptBlock = { $_ }
        }, @{
            Name = 'networks'; InputObject = 'net1'; ScriptBlock = { throw 'quota' }
        } -ErrorAction SilentlyContinue
        $user = Get-BatchItem -Id blocked -Stage users
        $user.Status.ToString() | Should -Be 'Skipped'
        $user.Error.Type | Should -Be 'DependencyNotCompleted'
    }

    It 'rejects a mistyped stage key and a dependency cycle, creating nothing' {
        { Invoke-BatchJob -Name typo -Stage @{ Name = 'a'; InputObject = 1; ScriptBlock = { $_ }; DependOn = 'b' } -ErrorAction Stop } |
            Should -Throw -ExpectedMessage "*unknown key 'DependOn'*"
        { New-BatchJob -Name cyclic -ErrorAction Stop -Stage @{ Name = 'a'; DependsOn = 'b'; InputObject = 1; ScriptBlock = { $_ } },
            @{ Name = 'b'; DependsOn = 'a'; InputObject = 1; ScriptBlock = { $_ } } } |
            Should -Throw -ExpectedMessage '*a -> b -> a*'
        Get-BatchJob -Name typo, cyclic -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'rolls back succeeded items newest first with -OnFailure Rollback' {
        $log = Join-Path $TestDrive 'undo.log'
        $null = 1..5 | Invoke-BatchJob -Name vms -ThrottleLimit 1 -OnFailure Rollback -ScriptBlock {
            if ($_ -eq 4) { throw 'no capacity' }
            "vm-$_"
        } -UndoScriptBlock { Add-Content -Path $using:log -Value "$_=$BatchOutput" } -ErrorAction SilentlyContinue
        Get-Content $log | Should -Be @('5=vm-5', '3=vm-3', '2=vm-2', '1=vm-1')
        $job = Get-BatchJob -Name vms
        $job.Status.ToString() | Should -Be 'RolledBack'
        $job.Compensated | Should -Be 4
    }

    It 'undoes on demand, lists the plan with -WhatIf and records failed compensations' {
        $null = 'a', 'b' | Invoke-BatchJob -Name manual -ThrottleLimit 1 -ScriptBlock { $_ } -UndoScriptBlock {
            if ($_ -eq 'b') { throw 'locked' }
        }
        Undo-BatchJob -Id manual -WhatIf
        (Get-BatchJob -Name manual).Status.ToString() | Should -Be 'Completed'

        $results = Undo-BatchJob -Id manual -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failed
        ($results | ForEach-Object { $_.Status.ToString() }) | Should -Be @('CompensationFailed', 'Compensated')
        $failed.Count | Should -BeGreaterThan 0
        (Get-BatchJob -Name manual).Status.ToString() | Should -Be 'RollbackFailed'
    }
}
