BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'New-BatchJob' {
    It 'stores a pending job with all its items and runs nothing' {
        $marker = Join-Path $TestDrive 'ran'
        $job = 1..200 | New-BatchJob { Add-Content $using:marker $_ } -Name defined -Tag nightly -ThrottleLimit 4
        $job | Should -BeOfType ([BatchOps.BatchJob])
        $job.Status.ToString() | Should -Be 'Pending'
        $job.Total | Should -Be 200
        $job.Settings.ThrottleLimit | Should -Be 4
        Test-Path $marker | Should -BeFalse
    }

    It 'creates a job that Invoke-BatchJob runs later from the pipeline' {
        $job = 1..20 | New-BatchJob { $_ * 3 } -Name later
        $results = $job | Invoke-BatchJob
        ($results | Sort-Object Index).Output | Should -Be (1..20 | ForEach-Object { $_ * 3 })
    }

    It 'keys items by -KeyProperty' {
        $job = @([pscustomobject]@{ Host = 'web01' }, [pscustomobject]@{ Host = 'web02' }) | New-BatchJob { $_.Host } -KeyProperty Host -Name keyed
        (Get-BatchItem -Id $job.Id).Key | Should -Be @('web01', 'web02')
    }

    It 'rejects an unknown -Function with <ErrorId>' -ForEach @(@{ ErrorId = 'BatchOps.FunctionNotFound,BatchOps.PowerShell.Commands.NewBatchJobCommand' }) {
        { 1 | New-BatchJob { $_ } -Function Get-NoSuchThing } | Should -Throw -ErrorId $ErrorId
    }

    It 'checks piped objects against -ItemSchema: Reject creates nothing, Fail records the misses' {
        $schema = @{ type = 'object'; required = @('sku'); properties = @{ price = @{ type = 'number'; minimum = 0.01 } } }
        $items = [pscustomobject]@{ sku = 'a'; price = 2 }, [pscustomobject]@{ sku = 'b'; price = 0 }
        { $items | New-BatchJob { $_.sku } -ItemSchema $schema -Name rejected } | Should -Throw -ExpectedMessage '*item 1: /price: must be >= 0.01*'
        Get-BatchJob -Name rejected | Should -BeNullOrEmpty
        $job = $items | New-BatchJob { $_.sku } -ItemSchema $schema -InvalidItems Fail -Name partly -ErrorVariable misses -ErrorAction SilentlyContinue
        $job.Failed | Should -Be 1
        $misses[0].FullyQualifiedErrorId | Should -BeLike 'BatchOps.InvalidItem,*'
        (Get-BatchItem -Id $job.Id -Index 1).Error.Type | Should -Be 'ValidationError'
    }
}
