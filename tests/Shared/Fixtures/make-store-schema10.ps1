# How store-schema10.db was made: by BatchOps at store schema 10 (before compact records), in
# PowerShell 7.6, so tests can open a store as users have it and check that it reads, resumes and retries.
# Run with that build's module: ./make-store-schema10.ps1 -Module path/to/BatchOps -Store path/to/folder
param([Parameter(Mandatory)] [string] $Module, [Parameter(Mandatory)] [string] $Store)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $Module

# 100 integers in four chunks, all succeeded (item blocks with shared timing).
1..100 | Invoke-BatchJob { $_ } -Name ints -Store $Store -ChunkSize 25 | Out-Null

# 40 rich objects, item 7 failing (its chunk written out as item rows, the others blocks).
1..40 | Invoke-BatchJob {
    if ($_ -eq 7) { throw "item seven failed" }
    [pscustomobject]@{
        Name = "srv$_"; Ok = $true
        When = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc)
        Bytes = [byte[]](1, 2, 3, ($_ % 256))
        Nested = [pscustomobject]@{ Depth = 1; List = @(1, 'two', $null) }
        Nothing = $null
        Text = "line1`nline2 <&> _x0041_"
    }
} -Name objects -Store $Store -ChunkSize 10 -ErrorAction SilentlyContinue | Out-Null

# 30 objects created and never run (Pending blocks of inputs).
1..30 | ForEach-Object { [pscustomobject]@{ Id = $_; Tag = "t$_" } } | New-BatchJob { $_.Id * 2 } -Name pending -Store $Store -ChunkSize 10 | Out-Null

sqlite3 (Join-Path $Store batchops.db) 'VACUUM'
