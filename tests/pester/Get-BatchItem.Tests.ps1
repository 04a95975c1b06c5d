BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    1..10 | Invoke-BatchJob { if ($_ -eq 7) { throw 'seven' } [pscustomobject]@{ Square = $_ * $_ } } -Name items -ErrorAction SilentlyContinue | Out-Null
}

Describe 'Get-BatchItem' {
    It 'returns stored items with deserialized input and output' {
        $items = Get-BatchItem -Id items
        $items.Count | Should -Be 10
        ($items | Where-Object Index -EQ 2).Output.Square | Should -Be 9
        ($items | Where-Object Index -EQ 2).Input | Should -Be 3
    }

    It 'filters by <Filter>' -ForEach @(
        @{ Filter = 'status'; Arguments = @{ Status = 'Failed' }; Count = 1 }
        @{ Filter = 'index'; Arguments = @{ Index = 0, 1, 2 }; Count = 3 }
    ) {
        @(Get-BatchItem -Id items @Arguments).Count | Should -Be $Count
    }

    It 'keeps the error of a failed item' {
        (Get-BatchItem -Id items -Status Failed).ErrorMessage | Should -BeLike '*seven*'
    }
}

Describe 'Get-BatchItem of a job that keeps no outputs' {
    BeforeAll {
        $script:piped = 1..6 | Invoke-BatchJob { [pscustomobject]@{ Name = "srv$_" } } -Name no-outputs -KeepOutput None
    }

    It 'still gives the outputs to the pipeline as items complete' {
        ($piped.Output.Name | Sort-Object { [int]$_.Substring(3) }) | Should -Be (1..6 | ForEach-Object { "srv$_" })
    }

    It 'returns the items without outputs and warns that they were not kept' {
        $items = Get-BatchItem -Id no-outputs -WarningVariable warned -WarningAction SilentlyContinue
        $items.Count | Should -Be 6
        $items.Where({ $null -ne $_.Output }).Count | Should -Be 0
        $warned | Should -HaveCount 1
        "$warned" | Should -BeLike "*outputs were not kept (KeepOutput None)*"
    }

    It 'shows the setting on the job' {
        (Get-BatchJob -Name no-outputs).Settings.KeepOutput | Should -Be 'None'
    }
}
