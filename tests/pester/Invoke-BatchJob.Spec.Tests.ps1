BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Invoke-BatchJob -SpecPath' {
    It 'runs the hello example spec from PowerShell, with results and an error record for the refused port' {
        $hello = Join-Path $PSScriptRoot '../../examples/hello.json'
        $results = Invoke-BatchJob -SpecPath $hello -ErrorVariable failed -ErrorAction SilentlyContinue
        $results.Count | Should -Be 4
        ($results | Where-Object Key -EQ 'web01').Output | Should -BeLike 'checked web01:80 as item 0*'
        $job = Get-BatchJob -Name hello
        $job.OperationKind | Should -Be 'exec'
        $job.Succeeded | Should -Be 4
        $failed | Should -BeNullOrEmpty
    }

    It 'takes a spec as a hashtable and checks its items against the spec''s itemSchema' {
        $spec = @{
            name = 'checked-spec'; invalidItems = 'fail'
            items = @(@{ port = 80 }, @{ port = 'x' })
            itemSchema = @{ type = 'object'; properties = @{ port = @{ type = 'integer' } } }
            operation = @{ kind = 'exec'; command = 'echo'; args = @('{port}') }
        }
        $results = Invoke-BatchJob -Spec $spec -ErrorVariable misses -ErrorAction SilentlyContinue
        @($results | Where-Object Status -EQ 'Succeeded').Count | Should -Be 1
        $misses[0].FullyQualifiedErrorId | Should -BeLike 'BatchOps.InvalidItem,*'
        (Get-BatchItem -Id checked-spec -Index 1).Error.Type | Should -Be 'ValidationError'
    }
}
