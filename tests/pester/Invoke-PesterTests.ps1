#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester tests against a packaged module folder and prints one line "PESTER passed failed skipped".
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
$pester = Get-Module -ListAvailable -Name Pester | Where-Object Version -GE ([version] '5.0.0') | Sort-Object Version -Descending | Select-Object -First 1
if (-not $pester) {
    Write-Host 'Pester 5 is not installed (Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser); the Pester tests were NOT run.'
    'PESTER-SKIPPED'
    exit 0
}

Import-Module $pester
$env:BATCHOPS_TEST_MODULE = (Resolve-Path -LiteralPath $ModulePath).Path
$configuration = New-PesterConfiguration
$configuration.Run.Path = $PSScriptRoot
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $configuration
"PESTER $($result.PassedCount) $($result.FailedCount) $($result.SkippedCount)"
exit ([int]($result.FailedCount -gt 0))
