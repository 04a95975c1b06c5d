BeforeDiscovery {
    # -Skip is decided while Pester discovers the tests, before BeforeAll runs.
    $hasSqlite3 = [bool](Get-Command sqlite3 -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    # The round trips need a way to create and read a SQLite table outside the module: the sqlite3 tool.
    $script:sqlite3 = Get-Command sqlite3 -ErrorAction SilentlyContinue
    function Invoke-Sqlite([string] $Database, [string] $Sql) { $Sql | & $script:sqlite3.Source $Database }
}

Describe 'Write-BatchTable' {
    Context 'bad targets are refused before anything is created' {
        It 'refuses a connection string with a password and says how to pass one' {
            { [pscustomobject]@{ id = 1 } | Write-BatchTable -Connection 'Host=localhost;Username=app;Password=secret' -Table t -ErrorAction Stop } |
                Should -Throw -ErrorId 'BatchOps.InvalidSqlTarget,BatchOps.PowerShell.Commands.WriteBatchTableCommand' -ExpectedMessage '*env:NAME*'
            Get-BatchJob | Should -BeNullOrEmpty
        }

        It 'asks for -Provider when the connection does not say' {
            { [pscustomobject]@{ id = 1 } | Write-BatchTable -Connection 'Timeout=5' -Table t -ErrorAction Stop } |
                Should -Throw -ExpectedMessage '*-Provider*'
        }

        It 'names a table the database does not have' {
            $database = Join-Path $TestDrive 'empty.db'
            New-Item -ItemType File -Path $database | Out-Null
            { [pscustomobject]@{ id = 1 } | Write-BatchTable -Connection $database -Table nosuch -ErrorAction Stop } |
                Should -Throw -ExpectedMessage '*nosuch*'
            Get-BatchJob | Should -BeNullOrEmpty
        }
    }

    Context 'round trips through a SQLite file' {
        BeforeEach {
            $database = Join-Path $TestDrive "shop-$([guid]::NewGuid().ToString('N')).db"
            if ($script:sqlite3) { Invoke-Sqlite $database 'CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price REAL);' }
        }

        It 'loads CSV rows and outputs the job' -Skip:(-not $hasSqlite3) {
            $csv = Join-Path $TestDrive 'products.csv'
            1..300 | ForEach-Object { [pscustomobject]@{ sku = "SKU-$_"; name = "Item $_"; price = "$_.5" } } | Export-Csv $csv
            $job = Import-Csv $csv | Write-BatchTable -Connection $database -Table products -ChunkSize 100
            $job | Should -BeOfType BatchOps.BatchJob
            $job.Status | Should -Be Completed
            $job.Succeeded | Should -Be 300
            Invoke-Sqlite $database 'SELECT count(*) FROM products;' | Should -Be 300
            Invoke-Sqlite $database "SELECT price FROM products WHERE sku = 'SKU-7';" | Should -Be 7.5
        }

        It 'upserts by key and reports each row with -PassThru' -Skip:(-not $hasSqlite3) {
            Invoke-Sqlite $database "INSERT INTO products VALUES ('A', 'old', 1);"
            $results = @(
                [pscustomobject]@{ sku = 'A'; name = 'new'; price = 2 }
                [pscustomobject]@{ sku = 'B'; name = 'b'; price = 3 }
            ) | Write-BatchTable $database products -Mode Upsert -Key sku -PassThru
            $results.Output | Should -Be @('updated', 'inserted')
            Invoke-Sqlite $database "SELECT name FROM products WHERE sku = 'A';" | Should -Be 'new'
        }

        It 'fails only the bad row, as an error, and -WhatIf changes nothing' -Skip:(-not $hasSqlite3) {
            $rows = 1..50 | ForEach-Object { [pscustomobject]@{ sku = "S$_"; name = "n$_"; price = "$_" } }
            $rows[9].price = 'abc'
            $rows | Write-BatchTable $database products -WhatIf -WarningVariable wouldFail -WarningAction SilentlyContinue
            $wouldFail | Should -HaveCount 1
            Invoke-Sqlite $database 'SELECT count(*) FROM products;' | Should -Be 0

            $job = $rows | Write-BatchTable $database products -ChunkSize 10 -ErrorVariable failed -ErrorAction SilentlyContinue
            $job.Failed | Should -Be 1
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -Be 'BatchOps.ItemFailed,BatchOps.PowerShell.Commands.WriteBatchTableCommand'
            $failed[0].Exception.Message | Should -BeLike "*row 9: column price: 'abc' is not a number*"
            Invoke-Sqlite $database 'SELECT count(*) FROM products;' | Should -Be 49
        }
    }
}
