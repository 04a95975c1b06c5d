#Requires -Version 7.4
<#
.SYNOPSIS
    One entry point for building, testing and packaging BatchOps.
.DESCRIPTION
    Build    compiles the solution (Release).
    Test     runs the xunit suites, then the Pester tests against the packaged module in out/BatchOps.
    Package  lays out out/BatchOps, ready for Import-Module and Publish-Module.
    Clean    removes bin/, obj/ and out/.
    Each task is also reachable without PowerShell: see README.md (dotnet test BatchOps.sln, .ci/package).
    Test packages the module first: the Pester tests run against out/BatchOps, never bin/.
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE." }
}

function Invoke-Build { Invoke-Native dotnet @('build', "$root/BatchOps.sln", '-c', $Configuration) }

function Invoke-Package {
    # The same packager .ci/package runs: out/BatchOps with Dependencies/, formats and generated help.
    Invoke-Native dotnet @('run', '--project', "$root/tools/BatchOps.Packager", '-c', 'Release', '--', '--configuration', $Configuration)
}

function Invoke-Test {
    Invoke-Native dotnet @('test', "$root/BatchOps.sln", '-c', $Configuration)
    Invoke-Package
    & (Join-Path $root 'tests/pester/Invoke-PesterTests.ps1') -ModulePath (Join-Path $root 'out/BatchOps')
    if ($LASTEXITCODE -ne 0) { throw 'Pester tests failed.' }
}

function Invoke-Clean {
    Get-ChildItem $root -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
    Remove-Item (Join-Path $root 'out') -Recurse -Force -ErrorAction SilentlyContinue
}

foreach ($t in $Task) {
    Write-Host "== $t" -ForegroundColor Cyan
    & "Invoke-$t"
}
