# Dot-sourced by every test file: imports the packaged module and gives each file its own store.
Set-StrictMode -Version Latest
$modulePath = if ($env:BATCHOPS_TEST_MODULE) { $env:BATCHOPS_TEST_MODULE } else { Join-Path $PSScriptRoot '../../out/BatchOps' }
Import-Module (Join-Path $modulePath 'BatchOps.psd1') -Force
$env:BATCHOPS_HOME = Join-Path ([IO.Path]::GetTempPath()) ("batchops-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $env:BATCHOPS_HOME -Force | Out-Null

# A second session in this process with the module imported and the same store: for Ctrl+C (Stop()),
# runs that must return within a bound, and two sessions on one store.
function New-BatchSession {
    $session = [powershell]::Create()
    $null = $session.AddScript({ param($Module) Import-Module $Module }).AddArgument((Join-Path $modulePath 'BatchOps.psd1')).Invoke()
    $session.Commands.Clear()
    $session
}

# Runs a script in a new session and fails (after stopping it) if it does not return within $Seconds.
function Invoke-Bounded([scriptblock] $Script, [int] $Seconds = 30) {
    $session = New-BatchSession
    try {
        $async = $session.AddScript($Script).BeginInvoke()
        if (-not $async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($Seconds))) {
            $null = $session.BeginStop($null, $null)
            throw "The script did not return within $Seconds s: $Script"
        }
        $session.EndInvoke($async)
    }
    finally {
        $session.Dispose()
    }
}
