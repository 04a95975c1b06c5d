@{
    RootModule           = 'BatchOps.dll'
    ModuleVersion        = '0.2.0'
    GUID                 = '5f0d3c1e-8b7a-4c4e-9a51-2f6de0b7c934'
    Author               = 'BatchOps contributors'
    CompanyName          = 'BatchOps'
    Copyright            = '(c) BatchOps contributors. All rights reserved.'
    Description          = 'Runs large batches of work safely: chunks, parallel workers with a throttle, retries with backoff, timeouts, rate limits, stop-on-error and max-errors policies, live progress, and a durable job store so crashed or cancelled jobs resume and failed items retry alone.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    CmdletsToExport      = @(
        'Export-BatchJob'
        'Get-BatchItem'
        'Get-BatchJob'
        'Get-BatchStatistics'
        'Get-BatchWorker'
        'Invoke-BatchJob'
        'New-BatchJob'
        'Remove-BatchJob'
        'Restart-BatchFailed'
        'Start-BatchDashboard'
        'Start-BatchWorker'
        'Stop-BatchDashboard'
        'Stop-BatchJob'
        'Stop-BatchWorker'
        'Undo-BatchJob'
        'Wait-BatchJob'
        'Write-BatchTable'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    FormatsToProcess     = @('BatchOps.format.ps1xml')
    TypesToProcess       = @('BatchOps.types.ps1xml')
    PrivateData          = @{
        PSData = @{
            Tags         = @('batch', 'parallel', 'bulk', 'retry', 'sql', 'postgresql', 'sqlite', 'throttle', 'resume', 'durable', 'jobs', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ReleaseNotes = '0.2.0: item data is encoded for where it lands in http and exec specs (RFC 6570 in urls, {+x} to keep reserved characters; JSON and form text bodies; header values with line breaks fail the item; warnings for placeholders in shell code). Specs that put a path or URL into a url through a placeholder must now write {+x}. See CHANGELOG.md and docs/security.md.'
        }
    }
}
