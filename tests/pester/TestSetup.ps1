# Dot-sourced by every test file: imports the packaged module and gives each file its own store.
Set-StrictMode -Version Latest
$modulePath = if ($env:BATCHOPS_TEST_MODULE) { $env:BATCHOPS_TEST_MODULE } else { Join-Path $PSScriptRoot '../../out/BatchOps' }
Import-Module (Join-Path $modulePath 'BatchOps.psd1') -Force
$env:BATCHOPS_HOME = Join-Path ([IO.Path]::GetTempPath()) ("batchops-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $env:BATCHOPS_HOME -Force | Out-Null
