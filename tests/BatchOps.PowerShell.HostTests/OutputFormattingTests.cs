using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// What users see: the module's Format-Table and Format-List views of its output types, rendered by the real
/// formatting engine (Microsoft.PowerShell.Utility), and objects that survive Export-Clixml/Import-Clixml.
/// </summary>
public sealed class OutputFormattingTests : IDisposable
{
    private readonly PsSession _session = new();

    public OutputFormattingTests() =>
        _session.Run("""
            $results = 1..3 | Invoke-BatchJob { if ($_ -eq 2) { throw "disk full on $_" }; "done $_" } -Name formatted -ErrorAction SilentlyContinue
            $job = Get-BatchJob -Name formatted
            """).ThrowIfFailed();

    public void Dispose() => _session.Dispose();

    /// <summary>
    /// Renders what <paramref name="script"/> outputs as the host would at <paramref name="width"/> columns, under
    /// strict mode as Pester and many profiles set it (a view reading a property a type lacks shows nothing there).
    /// </summary>
    private string[] Rendered(string script, int width = 120)
    {
        var text = string.Concat(_session.Run($"& {{ Set-StrictMode -Version Latest; {script} | Out-String -Width {width} }}").ThrowIfFailed().Output.Select(o => o?.ToString()));
        return [.. text.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Trim().Length > 0)];
    }

    private static string[] Headers(string headerLine) => headerLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void BatchJob_Table_ShowsEveryColumnWhole_InA120ColumnConsole()
    {
        var created = _session.Run("$job.CreatedAt.LocalDateTime.ToString('g')").ThrowIfFailed().Output.Single().ToString()!;
        var lines = Rendered("$job | Format-Table");

        Assert.Equal(["Id", "Name", "Status", "Total", "Succeeded", "Failed", "Pending", "Created"], Headers(lines[0]));
        var row = lines[2];
        Assert.DoesNotContain('…', row);
        Assert.Contains("CompletedWithErrors", row, StringComparison.Ordinal);
        Assert.EndsWith(created, row.TrimEnd(), StringComparison.Ordinal);

        // The counts sit right-aligned under their headers.
        Assert.Equal(lines[0].IndexOf("Succeeded", StringComparison.Ordinal) + "Succeeded".Length - 1, row.IndexOf('2', lines[0].IndexOf("Succeeded", StringComparison.Ordinal)));
        Assert.Equal(lines[0].IndexOf("Failed", StringComparison.Ordinal) + "Failed".Length - 1, row.IndexOf('1', lines[0].IndexOf("Failed", StringComparison.Ordinal)));
    }

    [Fact]
    public void BatchJob_List_SummarisesTheItemsOnOneLine()
    {
        var lines = Rendered("$job | Format-List");

        Assert.Equal("Items         : 3 total: 2 succeeded, 1 failed, 0 skipped, 0 cancelled, 0 pending (100%)", Assert.Single(lines, l => l.StartsWith("Items", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l == "Status        : CompletedWithErrors");
        Assert.Contains(lines, l => l == "OperationKind : scriptblock");
    }

    [Fact]
    public void ItemResults_Table_ShowsTheOutputOrTheError()
    {
        var lines = Rendered("$results | Sort-Object Index | Format-Table");

        Assert.Equal(["Index", "Key", "Status", "Attempts", "Duration", "Output", "/", "Error"], Headers(lines[0]));
        Assert.Matches(@"^\s+0\s+Succeeded\s+1\s+\d+ ms done 1$", lines[2]);
        Assert.Matches(@"^\s+1\s+Failed\s+1\s+\d+ ms disk full on 2$", lines[3]);
        Assert.Matches(@"^\s+2\s+Succeeded\s+1\s+\d+ ms done 3$", lines[4]);
    }

    [Fact]
    public void History_StaysInTheItemsTable_AndAloneHasItsOwnView()
    {
        _session.Run("$null = Restart-BatchFailed -Id formatted -Confirm:$false -ErrorAction SilentlyContinue").ThrowIfFailed();

        var mixed = Rendered("Get-BatchItem -Id formatted -History | Format-Table");
        Assert.Single(mixed, l => l.TrimStart().StartsWith("Index", StringComparison.Ordinal));
        Assert.Matches(@"^\s+1\s+Failed\s+1\s+\(run \d+\) disk full on 2$", Assert.Single(mixed, l => l.Contains("(run", StringComparison.Ordinal)));

        var alone = Rendered("Get-BatchItem -Id formatted -Index 1 -History | Where-Object { $_ -is [BatchOps.BatchItemHistory] }");
        Assert.Equal(["Index", "Run", "Status", "Attempts", "Ended", "Error"], Headers(alone[0]));
        Assert.EndsWith("disk full on 2", alone[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Statistics_List_NamesTheCounts()
    {
        var lines = Rendered("Get-BatchStatistics | Format-List Jobs, Items, SucceededItems, FailedItems");

        Assert.Equal(["Jobs           : 1", "Items          : 3", "SucceededItems : 2", "FailedItems    : 1"], lines);
    }

    [Fact]
    public void ItemResults_SurviveExportAndImportClixml_StatusesAndViewsIncluded()
    {
        var lines = _session.Run("""
            $path = Join-Path $Store 'results.xml'
            $results | Export-Clixml -Path $path
            $back = Import-Clixml -Path $path | Sort-Object Index
            $back[0].PSObject.TypeNames[0]
            "$($back.Count) $($back[1].Status) $($back[1].Error.Message) $($back[2].Output) $($back[0].Input) $($back[0].JobId -eq $job.Id)"
            @($back | Where-Object Status -eq 'Failed').Index
            ($back | Format-Table | Out-String -Width 120).Split("`n").Where({ $_.Trim() })[3].Trim()
            """).ThrowIfFailed().Output.Select(o => o?.ToString()!).ToArray();

        Assert.Equal("Deserialized.BatchOps.BatchItemResult", lines[0]);
        Assert.Equal("3 Failed disk full on 2 done 3 1 True", lines[1]);
        Assert.Equal("1", lines[2]);
        Assert.Matches(@"^1\s+Failed\s+1\s+\d+ ms disk full on 2$", lines[3]);
    }

    [Fact]
    public void WhatItemsReturn_ShowsEscaped_SoItCannotActOnTheTerminal()
    {
        var lines = Rendered("""
            'a', 'b' | Invoke-BatchJob { if ($_ -eq 'b') { throw "`e[31mred`u{202E}txt" }; "`e[2Jcleared`e]0;owned`a" } -KeyProperty Length -Name esc -ErrorAction SilentlyContinue | Sort-Object Index | Format-Table
            """);

        Assert.DoesNotContain(lines, l => l.Any(c => c is '\x1b' or '\a' or '\u202E'));
        Assert.EndsWith(@"\e[2Jcleared\e]0;owned\x07", lines[2], StringComparison.Ordinal);
        Assert.EndsWith(@"\e[31mred\u202Etxt", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public void AFailedItemsErrorRecord_ShowsItsMessageEscaped_AndKeepsTheExactTextInItsException()
    {
        var lines = _session.Run("""
            $null = 'b' | Invoke-BatchJob { throw "`e[31mred" } -Name esc-error -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].ErrorDetails.Message
            $failed[0].Exception.Message.Contains([char]27)
            ($failed[0] | Out-String -Width 200).Contains([char]27)
            """).ThrowIfFailed().Output.Select(o => o.ToString()).ToArray();

        Assert.EndsWith(@"failed after 1 attempt(s): \e[31mred", lines[0], StringComparison.Ordinal);
        Assert.Equal(["True", "False"], lines[1..]);
    }
}

