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
            $status = switch -Wildcard ($path) {
                '*/404' { 404 }
                '*/429' { if ($times.Count -eq 1) { 429 } else { 200 } }
                '*/500' { if ($times.Count -eq 1) { 500 } else { 200 } }
                default { 200 }
            }
            $context.Response.StatusCode = $status
            if ($status -eq 429) { $context.Response.AddHeader('Retry-After', '1') }
            $context.Response.ContentType = 'application/json'
            $bytes = [Text.Encoding]::UTF8.GetBytes("{`"status`":$status}")
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
}
