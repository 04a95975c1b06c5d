using System.Collections;
using System.Management.Automation;
using System.Text;
using BatchOps.PowerShell.HostTests.Support;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Data.Sqlite;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// Compact records (issue 32): what PowerShell jobs store comes back as the same objects, and a store written
/// before the compact form (a real one, made by BatchOps at schema 10) reads, resumes, retries and exports.
/// </summary>
public sealed class CompactRecordsTests
{
    private const int Cases = 25;

    /// <summary>
    /// Any object a runbook pipes in goes through the store and back as the same deserialized object it gave
    /// before records were compact: PSSerializer's own round trip of it (type names, nested objects, dates,
    /// byte arrays, $null, odd text and property names included, piped alone or inside an object), compared
    /// through its full CliXml.
    /// </summary>
    [Fact]
    public void AnyPipedObject_ComesBackFromTheStore_AsPowerShellsOwnRoundTripOfIt()
    {
        using var session = new PsSession();
        var job = 0;
        Prop.ForAll(Arb.From(Piped().ArrayOf().Where(a => a.Length > 0)), values =>
        {
            // Expected values are made and every value written out in the session's own runspace: PowerShell reads
            // a hashtable back in an order that depends on where it is read.
            var run = session.Run($$"""
                $values = @($input)
                $values | Invoke-BatchJob { $_ } -Name roundtrip{{++job}} -ChunkSize 7 | Out-Null
                $items = @(Get-BatchItem -Id roundtrip{{job}})
                function RoundTrip($value) { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($value, 2)) }
                function Xml($value) { [System.Management.Automation.PSSerializer]::Serialize($value, 5) }
                $items.Count
                for ($i = 0; $i -lt $values.Count; $i++) {
                    $expected = Xml (RoundTrip $values[$i])
                    $expected
                    Xml $items[$i].Input
                    # The script block returned the object it was given: the stored output reads back the same.
                    $expected
                    Xml $items[$i].Output
                }
                """, values).ThrowIfFailed();
            var texts = run.Output.Select(o => o.ToString()).ToList();
            Assert.Equal($"{values.Length}", texts[0]);
            for (var i = 1; i < texts.Count; i += 2)
            {
                Assert.Equal(texts[i], texts[i + 1]);
            }

            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));
    }

    [Fact]
    public void AStoreWrittenBeforeCompactRecords_ReadsResumesRetriesAndExports()
    {
        var folder = Directory.CreateTempSubdirectory("batchops-schema10-").FullName;
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "store-schema10.db"), Path.Combine(folder, "batchops.db"));
        try
        {
            using (var session = new PsSession(store: folder))
            {
                var read = session.Run("""
                    (Get-BatchJob | Sort-Object Name | ForEach-Object { "$($_.Name) $($_.Status) $($_.Total)" }) -join ';'
                    $ints = Get-BatchItem -Id ints
                    "$($ints.Count) $(($ints.Output | Measure-Object -Sum).Sum) $($ints[41].Input)"
                    $o = Get-BatchItem -Id objects -Index 1
                    $v = $o.Output
                    "$($v.Name) $($v.Ok) $($v.When.ToUniversalTime().ToString('o')) $($v.When.Kind) $($v.Bytes -join ',') $($v.Bytes.GetType().Name) $($v.Nested.Depth) $($v.Nested.List[1]) $($null -eq $v.Nothing) $($v.PSObject.TypeNames[0])"
                    $v.Text
                    (Get-BatchItem -Id objects -Status Failed).Error.Message
                    """).ThrowIfFailed();
                Assert.Equal(
                    [
                        "ints Completed 100;objects CompletedWithErrors 40;pending Pending 30",
                        "100 5050 42",
                        "srv2 True 2026-01-02T03:04:05.0000000Z Utc 1,2,3,2 Byte[] 1 two True Deserialized.System.Management.Automation.PSCustomObject",
                        "line1\nline2 <&> _x0041_",
                        "item seven failed",
                    ],
                    read.Output.Select(o => o.ToString()));

                var resumed = session.Run("""
                    $r = Invoke-BatchJob -Id pending
                    "$($r.Count) $(($r.Output | Measure-Object -Sum).Sum)"
                    $retried = Restart-BatchFailed -Id objects -ErrorAction SilentlyContinue
                    "$(@(Get-BatchItem -Id objects -Status Failed).Count) $(@(Get-BatchItem -Id objects -Index 6 -History).Count)"
                    $json = Export-BatchJob -Id objects -Format Json | ConvertFrom-Json
                    $json.items[1].output.Contains('<S N="Name">srv2</S>')
                    ([xml]$json.items[1].output).Objs.Version
                    """).ThrowIfFailed();
                Assert.Equal(["30 930", "1 2", "True", "1.1.0.1"], resumed.Output.Select(o => o.ToString()));
            }

            SqliteConnection.ClearAllPools();
            using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "batchops.db")};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT user_version FROM pragma_user_version), " +
                "(SELECT count(*) FROM item_blocks WHERE typeof(inputs) = 'text' AND inputs LIKE '%<Objs Version=%'), " +
                "(SELECT count(*) FROM item_blocks b JOIN jobs j ON j.id = b.job_id WHERE j.name = 'pending' AND typeof(b.outcomes) = 'blob' AND typeof(b.inputs) = 'text')";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());

            // Migrated to the current schema; the rows written before were left as they were (read in place),
            // and the resumed job's outcomes were written packed beside its old inputs.
            Assert.Equal((11L, true, 3L), (reader.GetInt64(0), reader.GetInt64(1) > 0, reader.GetInt64(2)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// What is piped: a generated value itself (a string, number, date, object… as the item), or inside an
    /// object of its own, so $null and arrays travel as one item too.
    /// </summary>
    private static Gen<object> Piped() => Gen.Frequency(
        (1, Value(2).Where(v => v is not null and not Array).Select(v => v!)),
        (1, Value(2).Select(value =>
        {
            var holder = new PSObject();
            holder.Properties.Add(new PSNoteProperty("V", value));
            return (object)holder;
        })));

    private static Gen<object?> Value(int depth) => depth == 0
        ? Leaf()
        : Gen.Frequency((5, Leaf()), (1, Custom(depth - 1)), (1, Value(depth - 1).ArrayOf().Select(a => (object?)a)), (1, Table(depth - 1)));

    private static Gen<object?> Leaf() => Gen.OneOf(
        Gen.Constant<object?>(null),
        ArbMap.Default.GeneratorFor<int>().Select(v => (object?)v),
        ArbMap.Default.GeneratorFor<long>().Select(v => (object?)v),
        ArbMap.Default.GeneratorFor<bool>().Select(v => (object?)v),
        ArbMap.Default.GeneratorFor<double>().Select(v => (object?)v),
        ArbMap.Default.GeneratorFor<decimal>().Select(v => (object?)v),
        ArbMap.Default.GeneratorFor<Guid>().Select(v => (object?)v),
        ArbMap.Default.GeneratorFor<byte[]>().Select(v => (object?)v),
        Gen.Choose(0, 0xFFFF).Select(c => (object?)(char)c),
        Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Elements(DateTimeKind.Utc, DateTimeKind.Local, DateTimeKind.Unspecified))
            .Select(t => (object?)new DateTime(630_000_000_000_000_000L + (t.Item1 * 1_000_000_000L) + t.Item1, t.Item2)),
        Gen.Choose(-1_000_000, 1_000_000).Select(s => (object?)TimeSpan.FromMilliseconds(s * 37.5)),
        Text().Select(v => (object?)v));

    /// <summary>Text weighted to what XML and CliXml treat specially: markup, entities, _x escapes, line breaks, control characters, surrogates.</summary>
    private static Gen<string> Text() => Gen.Frequency(
        (4, Gen.Elements("<", ">", "&", "\"", "'", "_x0041_", "_X", "\r\n", "\n", "\t", " ", "  ", "\0", "\u001b[2J", "]]>", "<Objs>", "</Objs>")),
        (4, Gen.Choose('a', 'z').Select(c => ((char)c).ToString())),
        (2, Gen.Choose(0, 0xFFFF).Select(c => ((char)c).ToString())),
        (1, Gen.Choose(0x10000, 0x10FFFF).Select(c => new Rune(c).ToString())))
        .ArrayOf().Select(parts => string.Concat(parts));

    /// <summary>A [pscustomobject] with generated property names and values, now and then with a type name of its own.</summary>
    private static Gen<object?> Custom(int depth) => Gen.Zip(
            Gen.Zip(Text().Where(n => n.Length > 0), Value(depth)).ArrayOf(),
            Gen.Elements<string?>(null, "Contoso.Server", "Odd <type> & name"))
        .Select(t =>
        {
            var custom = new PSObject();
            foreach (var (name, value) in t.Item1.DistinctBy(p => p.Item1, StringComparer.OrdinalIgnoreCase))
            {
                custom.Properties.Add(new PSNoteProperty(name, value));
            }

            if (t.Item2 is { } typeName)
            {
                custom.TypeNames.Insert(0, typeName);
            }

            return (object?)custom;
        });

    private static Gen<object?> Table(int depth) => Gen.Zip(Text(), Value(depth)).ArrayOf().Select(pairs =>
    {
        var table = new Hashtable();
        foreach (var (key, value) in pairs)
        {
            table[key] = value;
        }

        return (object?)table;
    });
}
