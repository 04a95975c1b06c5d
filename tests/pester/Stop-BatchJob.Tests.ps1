BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Stop-BatchJob' {
    It 'stops a job running in another runspace and leaves it resumable' {
        $job = 1..400 | New-BatchJob { Start-Sleep -Milliseconds 50; $_ } -Name long -ThrottleLimit 2
        $other = [powershell]::Create()
        $null = $other.AddScript({
                param($Module, $Store, $Id)
                $env:BATCHOPS_HOME = $Store
                Import-Module $Module
                Invoke-BatchJob -Id $Id | Out-Null
            }).AddParameters(@{ Module = (Join-Path $modulePath 'BatchOps.psd1'); Store = $env:BATCHOPS_HOME; Id = $job.Id })
        $async = $other.BeginInvoke()
        $deadline = (Get-Date).AddSeconds(30)
        while ((Get-BatchJob -Id $job.Id).Status.ToString() -ne 'Running' -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }

        Stop-BatchJob -Id $job.Id -Confirm:$false
        $null = $other.EndInvoke($async)
        $other.Dispose()

        $stopped = Get-BatchJob -Id $job.Id
        $stopped.Status.ToString() | Should -Be 'Cancelled'
        $stopped.Succeeded | Should -BeLessThan 400
        $rest = Invoke-BatchJob -Id $job.Id
        $rest.Count | Should -Be (400 - $stopped.Succeeded)
        (Get-BatchJob -Id $job.Id).Status.ToString() | Should -Be 'Completed'
    }

    It 'marks a pending job cancelled and supports -WhatIf' {
        $job = 1..3 | New-BatchJob { $_ } -Name pending
        Stop-BatchJob -Id $job.Id -WhatIf
        (Get-BatchJob -Id $job.Id).Status.ToString() | Should -Be 'Pending'
        Stop-BatchJob -Id $job.Id -Confirm:$false -PassThru | ForEach-Object { $_.Status.ToString() } | Should -Be 'Cancelled'
    }

    It 'writes BatchOps.JobNotFound for an unknown job' {
        Stop-BatchJob -Id nope -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'BatchOps.JobNotFound,*'
    }
}
