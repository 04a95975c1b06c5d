# Tests the runbook as it is, with its HTTP calls mocked. -UseCallerRunspace from $PSDefaultParameterValues
# makes every BatchOps cmdlet the runbook calls run its script blocks in this runspace, one item at a time,
# whatever -ThrottleLimit the runbook passes: Pester's mocks reach them and Should -Invoke counts the calls.
BeforeAll {
    $modulePath = if ($env:BATCHOPS_TEST_MODULE) { $env:BATCHOPS_TEST_MODULE } else { Join-Path $PSScriptRoot '../../out/BatchOps' }
    Import-Module (Join-Path $modulePath 'BatchOps.psd1') -Force
    $runbook = Join-Path $PSScriptRoot 'Restart-ServiceFleet.ps1'
}

Describe 'Restart-ServiceFleet' {
    BeforeEach {
        $PSDefaultParameterValues['*-Batch*:Store'] = 'TestDrive:\store'
        $PSDefaultParameterValues['*-Batch*:UseCallerRunspace'] = $true
    }

    AfterEach {
        $PSDefaultParameterValues.Remove('*-Batch*:Store')
        $PSDefaultParameterValues.Remove('*-Batch*:UseCallerRunspace')
    }

    It 'restarts every host once through the API' {
        Mock Invoke-RestMethod { @{ restarted = $true } }

        $report = & $runbook -Service web01, web02, web03 -ApiBase 'https://ops.example.test/api' -JobName fleet-ok -ThrottleLimit 16

        $report.Restarted | Should -Be 3
        $report.Failed | Should -BeNullOrEmpty
        Should -Invoke Invoke-RestMethod -Times 3 -Exactly
        Should -Invoke Invoke-RestMethod -Times 1 -Exactly -ParameterFilter { $Method -eq 'Post' -and $Uri -eq 'https://ops.example.test/api/services/web02/restart' }
        (Get-BatchJob -Name fleet-ok).Status | Should -Be 'Completed'
    }

    It 'retries a host that keeps failing and reports it, while the others are restarted' {
        Mock Invoke-RestMethod { throw 'connection refused' } -ParameterFilter { $Uri -like '*/db01/*' }
        Mock Invoke-RestMethod { @{ restarted = $true } }

        $report = & $runbook -Service web01, db01, web02 -ApiBase 'https://ops.example.test/api' -JobName fleet-db

        $report.Restarted | Should -Be 2
        $report.Failed | Should -Be @('db01')
        # Three attempts in the run (1 + RetryCount 2), three more in the retry round.
        Should -Invoke Invoke-RestMethod -Times 6 -Exactly -ParameterFilter { $Uri -like '*/db01/*' }
        Should -Invoke Invoke-RestMethod -Times 2 -Exactly -ParameterFilter { $Uri -like '*/web0*' }
        (Get-BatchItem -Id fleet-db -Status Failed).Error.Message | Should -Be 'connection refused'
    }

    It 'counts a host that recovers on its second round as restarted' {
        $script:attempts = 0
        Mock Invoke-RestMethod { if (++$script:attempts -le 3) { throw 'busy' }; @{ restarted = $true } }

        $report = & $runbook -Service app01 -ApiBase 'https://ops.example.test/api' -JobName fleet-retry

        $report.Restarted | Should -Be 1
        $report.Failed | Should -BeNullOrEmpty
        Should -Invoke Invoke-RestMethod -Times 4 -Exactly
    }
}
