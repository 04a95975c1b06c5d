BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    # A real HTTP server on 127.0.0.1, in a runspace of its own: /items/404 answers 404; /items/429 answers
    # 429 with Retry-After: 1 the first time, then 200; /items/500 answers 500 the first time, then 200;
    # anything else 200. Every request is timed per path.
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start()
    $port = $probe.LocalEndpoint.Port
    $probe.Stop()
    $listener = [System.Net.HttpListener]::new()
    $listener.Prefixes.Add("http://127.0.0.1:$port/")
    $listener.Start()
    $hits = [System.Collections.Concurrent.ConcurrentDictionary[string, System.Collections.Concurrent.ConcurrentQueue[datetime]]]::new()
    $server = [powershell]::Create()
    $null = $server.AddScript({
        param($Listener, $Hits)
        while ($Listener.IsListening) {
            try { $context = $Listener.GetContext() } catch { break }
            $path = $context.Request.Url.AbsolutePath
            $times = $Hits.GetOrAdd($path, [System.Collections.Concurrent.ConcurrentQueue[datetime]]::new())
            $times.Enqueue([datetime]::UtcNow)
            $first = $times.Count -eq 1
            $id = [int]($path -replace '^/fleet/(\d+)$', '$1' -replace '^/.*', '-1')
            $status = switch -Wildcard ($path) {
                '*/404' { 404 }
                '*/429' { if ($first) { 429 } else { 200 } }
                '*/500' { if ($first) { 500 } else { 200 } }
                '*/date' { if ($first) { 503 } else { 200 } }
                '/fleet/*' { if ($id -eq 42) { 404 } elseif ($id % 10 -eq 0 -and $first) { 429 } elseif ($id % 7 -eq 0 -and $first) { 500 } else { 200 } }
                default { 200 }
            }
            $context.Response.StatusCode = $status
            if ($status -eq 429) { $context.Response.AddHeader('Retry-After', '1') }
            if ($status -eq 503) { $context.Response.AddHeader('Retry-After', [datetime]::UtcNow.AddSeconds(2).ToString('R')) }
            $context.Response.ContentType = 'application/json'
            $busy = if ($path -like '*/busy' -and $first) { 'true' } else { 'false' }
            $bytes = [Text.Encoding]::UTF8.GetBytes("{`"status`":$status,`"busy`":$busy}")
            $context.Response.OutputStream.Write($bytes, 0, $bytes.Length)
            $context.Response.Close()
        }
    }).AddArgument($listener).AddArgument($hits)
    $null = $server.BeginInvoke()
}

AfterAll {
    $listener.Stop()
    $listener.Close()
    $server.Dispose()
}

Describe 'Invoke-BatchJob with Invoke-RestMethod' {
    BeforeAll {
        $results = '404', '429', '500', 'ok' | Invoke-BatchJob { Invoke-RestMethod -Method Post -Uri "http://127.0.0.1:$using:port/items/$_" } -Name rest -ThrottleLimit 4 -RetryCount 3 -RetryDelay 0.05 -ErrorAction SilentlyContinue
        $byInput = @{}
        foreach ($result in $results) { $byInput["$($result.Input)"] = $result }
    }

    It 'fails a 404 at once: no retry, error type HttpStatus, the status in the message' {
        $byInput['404'].Status | Should -Be 'Failed'
        $byInput['404'].Attempts | Should -Be 1
        $byInput['404'].Error.Type | Should -Be 'HttpStatus'
        $byInput['404'].Error.Message | Should -BeLike '*404*'
        $hits['/items/404'].Count | Should -Be 1
    }

    It 'waits the Retry-After of a 429 before the next attempt' {
        $byInput['429'].Status | Should -Be 'Succeeded'
        $byInput['429'].Attempts | Should -Be 2
        $times = $hits['/items/429'].ToArray()
        ($times[1] - $times[0]).TotalSeconds | Should -BeGreaterOrEqual 0.95
    }

    It 'retries a 500' {
        $byInput['500'].Status | Should -Be 'Succeeded'
        $byInput['500'].Attempts | Should -Be 2
        $byInput['ok'].Attempts | Should -Be 1
    }

    It 'lists each retried attempt with its status and the wait honoured in Get-BatchItem -History' {
        $retry = Get-BatchItem -Id rest -Index $byInput['429'].Index -History | Where-Object { $_ -is [BatchOps.BatchItemRetry] }
        $retry.StatusCode | Should -Be 429
        $retry.ErrorType | Should -Be 'HttpStatus'
        $retry.Delay | Should -Be ([timespan]::FromSeconds(1))
    }
}

Describe 'Retries of REST calls' {
    It 'honours a Retry-After given as an HTTP date' {
        $result = 'date' | Invoke-BatchJob { Invoke-RestMethod "http://127.0.0.1:$using:port/items/$_" } -RetryCount 2 -RetryDelay 0.05
        $result.Attempts | Should -Be 2
        $times = $hits['/items/date'].ToArray()
        ($times[1] - $times[0]).TotalSeconds | Should -BeGreaterOrEqual 0.9
    }

    It 'retries a refused connection' {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $closed = $probe.LocalEndpoint.Port; $probe.Stop()
        $result = 'x' | Invoke-BatchJob { Invoke-RestMethod "http://127.0.0.1:$using:closed/" -TimeoutSec 5 } -RetryCount 2 -RetryDelay 0.05 -ErrorAction SilentlyContinue
        $result.Attempts | Should -Be 3
    }

    It 'narrows retries to the types -RetryOn names, and widens them with a script block' {
        $before = $hits['/items/404'].Count
        $narrow = 'n500' | Invoke-BatchJob { Invoke-RestMethod "http://127.0.0.1:$using:port/items/$_/500" } -RetryCount 3 -RetryDelay 0.05 -RetryOn 'System.TimeoutException' -ErrorAction SilentlyContinue
        $narrow.Attempts | Should -Be 1
        $wide = '404' | Invoke-BatchJob { Invoke-RestMethod "http://127.0.0.1:$using:port/items/$_" } -RetryCount 2 -RetryDelay 0.05 -RetryOn { $_.Exception.Response.StatusCode -eq 404 } -ErrorAction SilentlyContinue
        $wide.Attempts | Should -Be 3
        $hits['/items/404'].Count - $before | Should -Be 3
    }

    It 'waits what a script asks for with [BatchOps.RetryAfter]' {
        $result = 'busy' | Invoke-BatchJob {
            if ((Invoke-RestMethod "http://127.0.0.1:$using:port/items/$_").busy) { throw [BatchOps.RetryAfter]::new(0.5, 'busy') }
            'done'
        } -RetryCount 2
        $result.Output | Should -Be 'done'
        $times = $hits['/items/busy'].ToArray()
        ($times[1] - $times[0]).TotalSeconds | Should -BeGreaterOrEqual 0.45
    }

    It 'sends the 404 once and waits the second a 429 asked for, in a fleet run at -RateLimit 50' {
        $results = 1..200 | Invoke-BatchJob { Invoke-RestMethod "http://127.0.0.1:$using:port/fleet/$_" -Method Post } -ThrottleLimit 16 -RateLimit 50 -RetryCount 3 -ErrorAction SilentlyContinue
        @($results | Where-Object Status -eq 'Succeeded').Count | Should -Be 199
        $hits['/fleet/42'].Count | Should -Be 1
        foreach ($id in 10, 20, 100, 200) {
            $times = $hits["/fleet/$id"].ToArray()
            $times.Count | Should -Be 2
            ($times[1] - $times[0]).TotalSeconds | Should -BeGreaterOrEqual 0.95
        }
        $hits['/fleet/7'].Count | Should -Be 2
    }
}

Describe 'Invoke-BatchJob -Notify' {
    It 'tells the webhook its variable names when the job ends with errors, once, and Get-BatchJob shows it' {
        $env:PESTER_NOTICE_HOOK = "http://127.0.0.1:$port/notice/hook"
        try {
            1..4 | Invoke-BatchJob -Name noticed -Notify @{ on = 'CompletedWithErrors', 'Failed'; webhook = 'env:PESTER_NOTICE_HOOK'; format = 'slack' } -ScriptBlock {
                if ($_ -eq 2) { throw 'bad item' }
                $_
            } -ErrorAction SilentlyContinue | Out-Null
        }
        finally {
            Remove-Item Env:PESTER_NOTICE_HOOK
        }

        $hits['/notice/hook'].Count | Should -Be 1
        $notices = (Get-BatchJob -Name noticed).Notices
        $notices.Count | Should -Be 1
        $notices[0] | Should -BeLike 'webhook env:PESTER_NOTICE_HOOK (slack) on CompletedWithErrors, Failed: sent * (1 attempt(s))'
    }

    It 'refuses a webhook URL written out (it carries its secret), naming the fix, and creates nothing' {
        { 1..2 | Invoke-BatchJob -Name unnoticed -Notify @{ on = 'Failed'; webhook = 'https://hooks.example.test/T0/B0/TOKEN' } -ScriptBlock { $_ } -ErrorAction Stop } |
            Should -Throw -ErrorId 'BatchOps.InvalidNotify,BatchOps.PowerShell.Commands.InvokeBatchJobCommand' -ExpectedMessage '*put it in an environment variable and write "env:NAME"*'
        @(Get-BatchJob -Name unnoticed).Count | Should -Be 0
    }
}
