#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite on one Pester module (imported by path) against a packaged module folder, and
    prints one line "PESTER passed failed skipped". Invoke-PesterTests.ps1 runs it once per Pester version,
    each in a process of its own (two Pester versions cannot share one).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $PesterPath,

    [Parameter(Mandatory)]
    [string] $ModulePath,

    # Folders or files, separated by the platform's path separator (: or ;).
    [string] $TestPath = $PSScriptRoot
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterPath
$env:BATCHOPS_TEST_MODULE = (Resolve-Path -LiteralPath $ModulePath).Path
$configuration = New-PesterConfiguration
$configuration.Run.Path = [string[]]($TestPath -split [regex]::Escape([IO.Path]::PathSeparator))
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $configuration
"PESTER $($result.PassedCount) $($result.FailedCount) $($result.SkippedCount)"
exit ([int]($result.FailedCount -gt 0))
