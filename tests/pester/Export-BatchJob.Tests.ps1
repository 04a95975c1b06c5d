BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    1..5 | Invoke-BatchJob { "value,$_" } -Name exported | Out-Null
}

Describe 'Export-BatchJob' {
    It 'writes <Format> files' -ForEach @(@{ Format = 'Json' }, @{ Format = 'Csv' }) {
        $path = Join-Path $TestDrive "export.$Format"
        $file = Export-BatchJob -Id exported -Format $Format -Path $path
        $file.FullName | Should -Be $path
        if ($Format -eq 'Json') {
            (Get-Content $path -Raw | ConvertFrom-Json).items.Count | Should -Be 5
        }
        else {
            (Import-Csv $path).Count | Should -Be 5
        }
    }

    It 'outputs text without -Path' {
        Export-BatchJob -Id exported -Format Csv | Should -Match 'index,key,status'
    }
}
