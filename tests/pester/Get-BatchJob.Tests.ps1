BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    1..3 | Invoke-BatchJob { $_ } -Name 'web-patch' -Tag prod | Out-Null
    1..3 | Invoke-BatchJob { $_ } -Name 'db-patch' -Tag prod | Out-Null
    1..3 | Invoke-BatchJob { throw 'no' } -Name 'broken' -ErrorAction SilentlyContinue | Out-Null
}

Describe 'Get-BatchJob' {
    It 'finds jobs by <Case>' -ForEach @(
        @{ Case = 'wildcard name'; Arguments = @{ Name = '*-patch' }; Expected = @('db-patch', 'web-patch') }
        @{ Case = 'tag'; Arguments = @{ Tag = 'prod' }; Expected = @('db-patch', 'web-patch') }
        @{ Case = 'status'; Arguments = @{ Status = 'Failed' }; Expected = @('broken') }
        @{ Case = 'newest'; Arguments = @{ Newest = 1 }; Expected = @('broken') }
    ) {
        (Get-BatchJob @Arguments).Name | Sort-Object | Should -Be $Expected
    }

    It 'finds a job by id from the pipeline' {
        $job = Get-BatchJob -Name broken
        ($job | Get-BatchJob).Id | Should -Be $job.Id
    }

    It 'shows counts' {
        $job = Get-BatchJob -Name broken
        $job.Failed | Should -Be 3
        $job.Total | Should -Be 3
    }

    It 'pipes into Stop-BatchJob and Remove-BatchJob' {
        $null = 1..3 | New-BatchJob { $_ } -Name 'pending-a'
        $null = 1..3 | New-BatchJob { $_ } -Name 'pending-b'
        (Get-BatchJob -Name 'pending-*' | Stop-BatchJob -Confirm:$false -PassThru).Status | ForEach-Object ToString | Sort-Object -Unique | Should -Be 'Cancelled'
        Get-BatchJob -Name 'pending-*' | Remove-BatchJob -Confirm:$false
        Get-BatchJob -Name 'pending-*' | Should -BeNullOrEmpty
    }
}
