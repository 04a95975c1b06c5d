BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    1..3 | Invoke-BatchJob { $_ } -Name 'on-the-dashboard' | Out-Null
}

Describe 'Start-BatchDashboard' {
    It 'serves the store on 127.0.0.1 with a token of its own, and Stop-BatchDashboard ends it' {
        $dashboard = Start-BatchDashboard -Port 0
        try {
            $dashboard.Url | Should -BeLike 'http://127.0.0.1:*/?token=*'
            $dashboard.ProcessId | Should -BeGreaterThan 0
            $dashboard.Token | Should -BeOfType [securestring]
            $root = $dashboard.Url -replace '\?token=.*$', ''
            { Invoke-RestMethod -Uri ($root + 'api/jobs') } | Should -Throw '*401*'
            $jobs = Invoke-RestMethod -Uri ($root + 'api/jobs?name=on-the-dashboard') -Authentication Bearer -Token $dashboard.Token -AllowUnencryptedAuthentication
            $jobs.total | Should -Be 1
            $jobs.jobs[0].counts.succeeded | Should -Be 3
        }
        finally {
            $dashboard | Stop-BatchDashboard
        }
        { Get-Process -Id $dashboard.ProcessId -ErrorAction Stop } | Should -Throw
    }

    It 'asks for the token when started with one, and refuses changes when read-only' {
        $dashboard = Start-BatchDashboard -Port 0 -Token 'pester-token' -ReadOnly
        try {
            $dashboard.Url | Should -BeLike '*/?token=pester-token'
            $root = $dashboard.Url -replace '\?token=.*$', ''
            { Invoke-RestMethod -Uri ($root + 'api/jobs') } | Should -Throw '*401*'
            $headers = @{ Authorization = 'Bearer pester-token' }
            (Invoke-RestMethod -Uri ($root + 'api/jobs') -Headers $headers).total | Should -BeGreaterOrEqual 1
            { Invoke-RestMethod -Method Post -Uri ($root + 'api/jobs') -Headers $headers -Body '{}' -ContentType 'application/json' } | Should -Throw '*405*'
        }
        finally {
            Stop-BatchDashboard -ProcessId $dashboard.ProcessId
        }
    }

    It 'fails with a clear error when the port is taken' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            { Start-BatchDashboard -Port $port -ErrorAction Stop } | Should -Throw "*Port $port on 127.0.0.1 is taken*"
        }
        finally {
            $listener.Stop()
        }
    }
}

Describe 'Stop-BatchDashboard' {
    It 'refuses a process that is not a dashboard and leaves it running' {
        Stop-BatchDashboard -ProcessId $PID -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'BatchOps.NotADashboard*'
        (Get-Process -Id $PID).HasExited | Should -BeFalse
    }
}
