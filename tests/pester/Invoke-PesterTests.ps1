#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite against a packaged module on every supported Pester version (5.9.1 and 6.2.0 by
    default), each restored from NuGet into the NuGet cache and imported by path, with a throwaway PostgreSQL
    cluster for the shared-store cases when the machine has PostgreSQL and BATCHOPS_TEST_POSTGRES is not set.
    Prints "PESTER <version> passed failed skipped" per version and a last line "PESTER passed failed skipped"
    over all of them; exits 1 when any test failed.
.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File tests/pester/Invoke-PesterTests.ps1
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/BatchOps'),

    [string[]] $PesterVersion = @('5.9.1', '6.2.0')
)

$ErrorActionPreference = 'Stop'
if (-not (Test-Path -LiteralPath (Join-Path $ModulePath 'BatchOps.psd1'))) {
    throw "No packaged module in '$ModulePath'. Package it first: .ci/package (or ./build.ps1 -Task Package)."
}

$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
$pesterPaths = @($PesterVersion | ForEach-Object { Join-Path $packages "pester/$_/tools/Pester.psd1" })
if ($pesterPaths | Where-Object { -not (Test-Path -LiteralPath $_) }) {
    & dotnet restore (Join-Path $PSScriptRoot 'PesterModules.proj') --verbosity quiet | Out-Host
    if ($LASTEXITCODE -ne 0) { throw 'dotnet restore tests/pester/PesterModules.proj failed: Pester could not be restored from NuGet.' }
}

# The PowerShell running this script, to start one process per Pester version: pwsh itself, or dotnet with
# pwsh.dll when it runs as a .NET tool (dotnet pwsh).
$self = [Environment]::ProcessPath
[string[]] $selfArgs = if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }

# Runs a PostgreSQL tool of the cluster: as the postgres user when this runs as root (PostgreSQL refuses root).
function Invoke-PgTool($Cluster, [string] $Tool, [string[]] $Arguments) {
    $exe = Join-Path $Cluster.Bin $Tool
    $output = if ($Cluster.AsPostgres) { & runuser -u postgres -- $exe @Arguments 2>&1 } else { & $exe @Arguments 2>&1 }
    if ($LASTEXITCODE -ne 0) { throw "$Tool failed: $($output -join [Environment]::NewLine)" }
}

function Start-ThrowawayPostgres {
    $bin = Get-Item -Path '/usr/lib/postgresql/*/bin' -ErrorAction SilentlyContinue |
        Where-Object { Test-Path (Join-Path $_.FullName 'initdb') } |
        Sort-Object { [int]($_.Parent.Name -replace '\D', '') } -Descending |
        Select-Object -First 1
    if (-not $bin) {
        Write-Host 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): the shared-store cases are skipped and say so.'
        return $null
    }

    $cluster = [pscustomobject]@{
        Bin        = $bin.FullName
        Folder     = Join-Path ([IO.Path]::GetTempPath()) "batchops-pester-pg-$PID"
        AsPostgres = [Environment]::UserName -eq 'root'
    }
    $null = New-Item -ItemType Directory -Path $cluster.Folder -Force
    if ($cluster.AsPostgres) { & chown postgres:postgres $cluster.Folder }
    $folder = $cluster.Folder
    Invoke-PgTool $cluster 'initdb' @('-D', "$folder/data", '-U', 'batchops', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions')
    Invoke-PgTool $cluster 'pg_ctl' @('-D', "$folder/data", '-l', "$folder/server.log", '-w', '-t', '60', '-o', "-c listen_addresses='' -k $folder -c fsync=off -c synchronous_commit=off", 'start')
    Invoke-PgTool $cluster 'psql' @('-h', $folder, '-U', 'batchops', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', 'CREATE DATABASE pester')
    Write-Host "A throwaway PostgreSQL cluster for the shared-store cases: $folder"
    $cluster
}

function Stop-ThrowawayPostgres($Cluster) {
    Invoke-PgTool $Cluster 'pg_ctl' @('-D', "$($Cluster.Folder)/data", '-m', 'immediate', '-w', 'stop')
    Remove-Item -Recurse -Force -LiteralPath $Cluster.Folder
}

$cluster = $null
if (-not $env:BATCHOPS_TEST_POSTGRES) {
    $cluster = Start-ThrowawayPostgres
    if ($cluster) { $env:BATCHOPS_TEST_POSTGRES = "Host=$($cluster.Folder);Username=batchops;Database=pester" }
}

# The suite, and the example runbooks' own tests (examples/runbooks), which show how runbooks are tested.
$runbooks = Join-Path $PSScriptRoot '../../examples/runbooks'
$passed = 0; $failed = 0; $skipped = 0
try {
    for ($i = 0; $i -lt $PesterVersion.Count; $i++) {
        Write-Host "== Pester $($PesterVersion[$i])"
        $lines = & $self @selfArgs -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Run-Pester.ps1') -PesterPath $pesterPaths[$i] -ModulePath $ModulePath -TestPath ($PSScriptRoot, $runbooks -join [IO.Path]::PathSeparator) 2>&1 |
            ForEach-Object { Write-Host $_; $_ }
        $counts = @($lines | Where-Object { "$_" -match '^PESTER (\d+) (\d+) (\d+)$' }) | Select-Object -Last 1
        if (-not $counts) {
            Write-Host "Pester $($PesterVersion[$i]) printed no result line."
            $failed++
            continue
        }

        $null = "$counts" -match '^PESTER (\d+) (\d+) (\d+)$'
        Write-Host "PESTER $($PesterVersion[$i]) $($Matches[1]) $($Matches[2]) $($Matches[3])"
        $passed += [int]$Matches[1]; $failed += [int]$Matches[2]; $skipped += [int]$Matches[3]
    }
}
finally {
    if ($cluster) {
        Stop-ThrowawayPostgres $cluster
        Remove-Item Env:BATCHOPS_TEST_POSTGRES
    }
}

"PESTER $passed $failed $skipped"
exit ([int]($failed -gt 0))
