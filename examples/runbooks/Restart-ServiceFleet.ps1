<#
.SYNOPSIS
    Restarts a service on many hosts through their HTTP management API, retries the ones that failed once
    more, and reports what was restarted and what was not.
.DESCRIPTION
    An example runbook: everything it does goes through BatchOps, so a crash or Ctrl+C leaves a job that
    Invoke-BatchJob -Id resumes, and Get-BatchJob/Get-BatchItem show what happened later. Its Pester tests
    (Restart-ServiceFleet.Tests.ps1) run it unchanged with the HTTP calls mocked.
.EXAMPLE
    ./Restart-ServiceFleet.ps1 -Service web01, web02, db01 -ApiBase https://ops.example.net/api -ThrottleLimit 16
#>
[CmdletBinding()]
param(
    # The hosts whose service is restarted, one item each.
    [Parameter(Mandatory)]
    [string[]] $Service,

    # The management API's root; each host is POST {ApiBase}/services/{host}/restart.
    [Parameter(Mandatory)]
    [string] $ApiBase,

    [string] $JobName = "restart-fleet-$(Get-Date -Format yyyyMMdd-HHmmss)",

    [ValidateRange(1, 256)]
    [int] $ThrottleLimit = 8
)

$results = $Service | Invoke-BatchJob {
    Invoke-RestMethod -Method Post -Uri "$using:ApiBase/services/$_/restart"
} -Name $JobName -KeyProperty Length -ThrottleLimit $ThrottleLimit -RetryCount 2 -RetryDelay 0.01 -ErrorAction SilentlyContinue

# The failed ones get one more round (each with its own retries), after the others are done.
$failed = @($results | Where-Object Status -eq 'Failed')
if ($failed.Count -gt 0) {
    Write-Verbose "Retrying $($failed.Count) failed host(s): $($failed.Input -join ', ')"
    $retried = @($failed | Restart-BatchFailed -ErrorAction SilentlyContinue)
    $results = @($results | Where-Object Status -eq 'Succeeded') + $retried
}

[pscustomobject]@{
    Job       = $JobName
    Restarted = @($results | Where-Object Status -eq 'Succeeded').Count
    Failed    = [string[]]@($results | Where-Object Status -eq 'Failed' | ForEach-Object Input)
}
