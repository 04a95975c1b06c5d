BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    # Every byte form a reader could turn back into a secret: UTF-8, UTF-16LE, hex of either (both cases), base64 of either.
    function Get-SecretForm([string] $Secret) {
        foreach ($raw in [Text.Encoding]::UTF8.GetBytes($Secret), [Text.Encoding]::Unicode.GetBytes($Secret)) {
            [Text.Encoding]::Latin1.GetString($raw)
            [Convert]::ToHexString($raw)
            [Convert]::ToHexString($raw).ToLowerInvariant()
            [Convert]::ToBase64String($raw)
        }
    }

    function Get-StoreText {
        $all = [IO.MemoryStream]::new()
        foreach ($file in Get-ChildItem -Path $env:BATCHOPS_HOME -Recurse -File) {
            $stream = [IO.FileStream]::new($file.FullName, 'Open', 'Read', 'ReadWrite, Delete')
            try { $stream.CopyTo($all) } finally { $stream.Dispose() }
        }
        [Text.Encoding]::Latin1.GetString($all.ToArray())
    }
}

Describe 'Invoke-BatchJob with credentials' {
    BeforeAll {
        $password = 'Pester-Pw-7731'
        $tokenValue = 'pester-token-5521'
        $cred = [pscredential]::new('admin', [Net.NetworkCredential]::new('', $password).SecurePassword)
        $token = $tokenValue
        $results = 1..3 | Invoke-BatchJob { '{0} {1} {2}' -f ($using:cred).UserName, ($using:cred).GetNetworkCredential().Password.Length, ($using:token).Length } -Name pester-secrets
    }

    It 'gives the script block the credential and the token' {
        $results.Output | Should -Be @('admin 14 17', 'admin 14 17', 'admin 14 17')
    }

    It 'writes no form of <_> to the store, its logs or an export' -ForEach @('password', 'token') {
        $secret = if ($_ -eq 'password') { $password } else { $tokenValue }
        Export-BatchJob -Id pester-secrets -Format Json -Path (Join-Path $env:BATCHOPS_HOME 'export.json')
        $text = Get-StoreText
        foreach ($form in Get-SecretForm $secret) {
            $text.Contains($form) | Should -BeFalse -Because "the store must not hold '$form'"
        }
    }

    It 'asks another process for the values, and runs with -UsingValue there' {
        $null = 1..2 | New-BatchJob { ($using:token).Length } -Name pester-other-process
        # This PowerShell again, as a new process: pwsh itself, or dotnet with pwsh.dll when it runs as a .NET tool.
        $exe = [Environment]::ProcessPath
        [string[]] $first = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
        $import = "Import-Module '$(Join-Path $env:BATCHOPS_TEST_MODULE 'BatchOps.psd1')'"
        $refused = & $exe @first -NoProfile -NonInteractive -Command "$import; try { Invoke-BatchJob -Id pester-other-process -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }"
        $refused | Should -BeLike 'BatchOps.SecretsMissing*'
        $ran = & $exe @first -NoProfile -NonInteractive -Command "$import; (Invoke-BatchJob -Id pester-other-process -ThrottleLimit 1 -UsingValue @{ token = '$tokenValue' }).Output"
        $ran | Should -Be @('17', '17')
    }

    It 'asks another session for the values, and runs with -UsingValue' {
        $null = 1..2 | New-BatchJob { ($using:token).Length } -Name pester-elsewhere
        $session = New-BatchSession
        try {
            $failure = $session.AddScript({ try { Invoke-BatchJob -Id pester-elsewhere -ErrorAction Stop } catch { $_.FullyQualifiedErrorId } }).Invoke()
            $failure | Should -BeLike 'BatchOps.SecretsMissing*'
            $session.Commands.Clear()
            $output = $session.AddScript({ param($Token) (Invoke-BatchJob -Id pester-elsewhere -UsingValue @{ token = $Token }).Output }).AddArgument($tokenValue).Invoke()
            $output | Should -Be @(17, 17)
        }
        finally {
            $session.Dispose()
        }
    }
}
