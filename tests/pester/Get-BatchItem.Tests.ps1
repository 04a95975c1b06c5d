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
