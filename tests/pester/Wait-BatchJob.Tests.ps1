BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Wait-BatchJob' {
    It 'returns at once for a finished job' {
        1..2 | Invoke-BatchJob { $_ } -Name finished | Out-Null
        (Wait-BatchJob -Id finished).Status.ToString() | Should -Be 'Completed'
    }

    It 'writes BatchOps.WaitTimedOut when the job keeps running' {
        $job = 1..100 | New-BatchJob { Start-Sleep -Milliseconds 100 } -Name slow -ThrottleLimit 1
        $other = [powershell]::Create().AddScript({
                param($Module, $Store, $Id)
                $env:BATCHOPS_HOME = $Store
                Import-Module $Module
                Invoke-BatchJob -Id $Id | Out-Null
            }).AddParameters(@{ Module = (Join-Path $modulePath 'BatchOps.psd1'); Store = $env:BATCHOPS_HOME; Id = $job.Id })
        $async = $other.BeginInvoke()
        Start-Sleep -Seconds 1
        Wait-BatchJob -Id $job.Id -Timeout 1 -ErrorVariable waited -ErrorAction SilentlyContinue | Out-Null
        $waited[0].FullyQualifiedErrorId | Should -BeLike 'BatchOps.WaitTimedOut,*'
        Stop-BatchJob -Id $job.Id -Confirm:$false
        $null = $other.EndInvoke($async)
        $other.Dispose()
    }
}
