using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Tests.Store;

/// <summary>
/// Chunks kept as one record (item blocks) in the SQLite store: a job's chunks are recorded as blocks, a
/// chunk that succeeds whole is checkpointed as one record, anything else gets item rows, and every read
/// (items, counts, resume, retry, export) sees the same items as with one row per item.
/// </summary>
public sealed class ItemBlockTests : StoreTest
{
    private Task<JobRecord> CreateAsync(int count, int chunkSize, Func<string?, string?>? key = null) => Runner.CreateAsync(
        new JobDefinition { Name = "blocks", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = chunkSize, ThrottleLimit = 2 } },
        Enumerable.Range(0, count).Select(i => (string?)$"input {i}"), TextPayloadCodec.Instance, TextPayloadCodec.Instance.Format, key);

    private Task<JobRunResult> RunAsync(string jobId, Func<string?, string?> work, RunKind kind = RunKind.Resume, int? chunkSize = null, bool bulk = false) =>
        Runner.RunAsync(jobId, new JobRunRequest<string?, string?>
        {
            Operation = bulk
                ? BatchOperation<string?, string?>.PerChunk((items, _) =>
                    items.Any(i => work(i.Value) is null) ? throw new InvalidOperationException("a bad row") : ValueTask.FromResult<IReadOnlyList<string?>?>([.. items.Select(i => work(i.Value))]))
                : BatchOperation<string?, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(work(item.Value) ?? throw new InvalidOperationException($"bad {item.Value}"))),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            Kind = kind,
            SettingsOverride = chunkSize is { } size ? new JobSettings { ChunkSize = size } : null,
        });

    private long Count(string table) => Scalar($"SELECT count(*) FROM {table}");

    /// <summary>A block column of every row as stored: its framed text (unpacked when packed) and how it is kept.</summary>
    private List<(string Framed, bool Packed, long StoredBytes)> StoredColumn(string column)
    {
        using var connection = new SqliteConnection($"Data Source={Folder.File(StoreLocation.DatabaseFileName)};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT CAST({column} AS BLOB), typeof({column}) FROM item_blocks WHERE {column} IS NOT NULL ORDER BY first_idx";
        using var reader = command.ExecuteReader();
        var values = new List<(string, bool, long)>();
        while (reader.Read())
        {
            var stored = (byte[])reader[0];
            byte[]? rented = null;
            var framed = System.Text.Encoding.UTF8.GetString(BlockPacking.Unpack(stored, ref rented));
            values.Add((framed, BlockPacking.IsPacked(stored) && reader.GetString(1) == "blob", stored.Length));
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return values;
    }

    private IEnumerable<string> StoredBlocks(string column) => StoredColumn(column).Select(c => c.Framed);

    [Fact]
    public async Task AJobThatSucceedsWhole_IsOneRecordPerChunk_AndReadsBackItemByItem()
    {
        var job = await CreateAsync(2_500, chunkSize: 100, key: input => input!.Replace("input", "key", StringComparison.Ordinal));
        Assert.Equal(25, Count("item_blocks"));
        Assert.Equal(0, Count("items"));

        var result = await RunAsync(job.Id, input => input!.ToUpperInvariant());

        Assert.Equal(JobStatus.Completed, result.Job.Status);
        Assert.Equal(2_500, result.Job.Counts.Succeeded);
        Assert.Equal(0, Count("items"));
        var items = await ItemsAsync(job.Id);
        Assert.Equal(Enumerable.Range(0, 2_500).Select(i => (long)i), items.Select(i => i.Index));
        var item = items[1_234];
        Assert.Equal(("input 1234", "key 1234", "INPUT 1234", ItemStatus.Succeeded, 1), (item.Input, item.Key, item.Output, item.Status, item.Attempts));
        Assert.NotNull(item.StartedAt);
        Assert.True(item.EndedAt >= item.StartedAt);
        Assert.NotNull(item.Duration);
    }

    [Fact]
    public async Task ABulkChunk_KeepsItsTimingOnce_AndEachItemReadsItBackWithItsOwnOutput()
    {
        var job = await CreateAsync(300, chunkSize: 100);

        var result = await RunAsync(job.Id, input => input!.ToUpperInvariant(), bulk: true);

        Assert.Equal(300, result.Job.Counts.Succeeded);
        Assert.Equal(3, StoredBlocks("outcomes").Count(framed => framed.StartsWith("*", StringComparison.Ordinal)));
        var items = await ItemsAsync(job.Id);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"INPUT {i}"), items.Select(i => i.Output));
        var chunk = items.Skip(100).Take(100).ToList();
        Assert.All(chunk, i => Assert.Equal((chunk[0].StartedAt, chunk[0].EndedAt, chunk[0].Duration, 1), (i.StartedAt, i.EndedAt, i.Duration, i.Attempts)));
        Assert.NotNull(chunk[0].StartedAt);
    }

    [Fact]
    public async Task AFailedItem_GetsARowOfItsOwn_AndRetryingItKeepsItsHistory()
    {
        var job = await CreateAsync(1_000, chunkSize: 100);

        var first = await RunAsync(job.Id, input => input == "input 437" ? null : "ok");

        Assert.Equal((999L, 1L), (first.Job.Counts.Succeeded, first.Job.Counts.Failed));
        Assert.Equal(9, Count("item_blocks"));
        Assert.Equal(100, Count("items")); // the failed item's chunk, written out
        var failed = Assert.Single(await ItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.Failed] }));
        Assert.Equal((437L, "bad input 437"), (failed.Index, failed.Error?.Message));

        var retry = await RunAsync(job.Id, _ => "fixed", RunKind.RetryFailed);

        Assert.Equal(JobStatus.Completed, retry.Job.Status);
        Assert.Equal("fixed", (await ItemsAsync(job.Id, new ItemQuery { Indexes = [437] })).Single().Output);
        Assert.Equal(ItemStatus.Failed, Assert.Single(await Store.GetItemHistoryAsync(job.Id, 437)).Status);
        Assert.Equal(1_000, (await ItemsAsync(job.Id)).Count);
    }

    [Fact]
    public async Task ABisectedChunk_IsWrittenOutAsRows_AndTheOtherChunksStayBlocks()
    {
        var job = await CreateAsync(500, chunkSize: 100);

        var result = await RunAsync(job.Id, input => input is "input 250" or "input 251" ? null : "ok", bulk: true);

        Assert.Equal((498L, 2L), (result.Job.Counts.Succeeded, result.Job.Counts.Failed));
        Assert.Equal(4, Count("item_blocks"));
        Assert.Equal([250L, 251L], (await ItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.Failed] })).Select(i => i.Index));
    }

    [Fact]
    public async Task AResumeWithAnotherChunkSize_WritesTheBlocksItTouchesOut_AndRunsEveryItemOnce()
    {
        var job = await CreateAsync(1_000, chunkSize: 100);
        var runs = new int[1_000];

        var result = await RunAsync(job.Id, input => Interlocked.Increment(ref runs[int.Parse(input!.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture)]).ToString(System.Globalization.CultureInfo.InvariantCulture), chunkSize: 150);

        Assert.Equal(1_000, result.Job.Counts.Succeeded);
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (long)i), (await ItemsAsync(job.Id)).Select(i => i.Index));
        Assert.All(await ItemsAsync(job.Id), i => Assert.Equal("1", i.Output));
    }

    [Fact]
    public async Task ReadsMergeRowsAndBlocksInIndexOrder_ByStatusAndByIndex_AcrossPages()
    {
        var job = await CreateAsync(5_000, chunkSize: 250);
        var bad = new HashSet<string> { "input 3", "input 1999", "input 2000", "input 4999" };
        await RunAsync(job.Id, input => bad.Contains(input!) ? null : "ok", chunkSize: 250);

        var all = await ItemsAsync(job.Id);
        var succeeded = await ItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.Succeeded] });
        var chosen = await ItemsAsync(job.Id, new ItemQuery { Indexes = [4_999, 0, 1_999, 2_600, 2_601, 10_000] });

        Assert.Equal(Enumerable.Range(0, 5_000).Select(i => (long)i), all.Select(i => i.Index));
        Assert.Equal(4_996, succeeded.Count);
        Assert.Equal(succeeded.Select(i => i.Index).Order(), succeeded.Select(i => i.Index));
        Assert.Equal([0L, 1_999L, 2_600L, 2_601L, 4_999L], chosen.Select(i => i.Index));
        Assert.Equal([ItemStatus.Succeeded, ItemStatus.Failed, ItemStatus.Succeeded, ItemStatus.Succeeded, ItemStatus.Failed], chosen.Select(i => i.Status));
        var counts = (await Store.GetJobAsync(job.Id))!.Counts;
        Assert.Equal((5_000L, 4_996L, 4L), (counts.Total, counts.Succeeded, counts.Failed));
    }

    [Fact]
    public async Task RetryingFailedItemsFarApart_LeavesTheBlocksBetweenThemAlone()
    {
        var job = await CreateAsync(1_000, chunkSize: 100);
        await RunAsync(job.Id, input => input is "input 5" or "input 995" ? null : "ok");
        Assert.Equal(8, Count("item_blocks"));

        var retry = await RunAsync(job.Id, _ => "fixed", RunKind.RetryFailed);

        Assert.Equal(JobStatus.Completed, retry.Job.Status);
        Assert.Equal(8, Count("item_blocks"));
        Assert.Equal(200, Count("items"));
    }

    [Fact]
    public async Task RemovingAJob_RemovesItsBlocks()
    {
        var job = await CreateAsync(300, chunkSize: 100);

        Assert.True(await Store.RemoveJobAsync(job.Id));

        Assert.Equal(0, Count("item_blocks"));
    }

    [Fact]
    public async Task BlocksOfRepeatingObjects_AreStoredPacked_AndReadBackTheSame()
    {
        const string Shape = "<Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><S N=\"Name\">srv{0}</S><B N=\"Ok\">true</B></MS></Obj>";
        var job = await CreateAsync(1_000, chunkSize: 100);

        await RunAsync(job.Id, input => string.Format(System.Globalization.CultureInfo.InvariantCulture, Shape, input));

        var outcomes = StoredColumn("outcomes");
        Assert.Equal(10, outcomes.Count);
        Assert.All(outcomes, o => Assert.True(o.Packed));
        // A hundred 150-byte objects that differ in a few characters pack to a small fraction of their text.
        Assert.All(outcomes, o => Assert.True(o.StoredBytes * 5 < o.Framed.Length, $"{o.StoredBytes} bytes stored for {o.Framed.Length}"));
        Assert.All(StoredColumn("inputs"), i => Assert.True(i.Packed));
        var items = await ItemsAsync(job.Id);
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, Shape, $"input {i}")), items.Select(i => i.Output));
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => $"input {i}"), items.Select(i => i.Input));
    }

    [Fact]
    public async Task BlocksWrittenPlain_AsOlderStoresHoldThem_ReadBackAndResume()
    {
        var job = await CreateAsync(3, chunkSize: 3);
        // The row as a store before packing wrote it: framed UTF-8 text, outcomes with shared timing.
        using (var connection = new SqliteConnection($"Data Source={Folder.File(StoreLocation.DatabaseFileName)};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM item_blocks; INSERT INTO item_blocks (job_id, first_idx, last_idx, status, keys, inputs) VALUES ($job, 0, 2, 0, NULL, '3:old5:older4:last');";
            command.Parameters.AddWithValue("$job", job.Id);
            command.ExecuteNonQuery();
        }

        var result = await RunAsync(job.Id, input => input + "!");

        Assert.Equal(3, result.Job.Counts.Succeeded);
        var items = await ItemsAsync(job.Id);
        Assert.Equal(["old!", "older!", "last!"], items.Select(i => i.Output));
        Assert.Equal(["old", "older", "last"], items.Select(i => i.Input));
    }

    [Fact]
    public void APackedValueThatDoesNotUnpack_IsReportedAsDamaged()
    {
        var framed = new System.Buffers.ArrayBufferWriter<byte>();
        ItemBlock.Encode(framed, Enumerable.Range(0, 100).Select(i => $"<I32>{i}</I32>"));
        var packed = BlockPacking.Pack(framed.WrittenSpan, new System.Buffers.ArrayBufferWriter<byte>()).ToArray();
        Assert.True(BlockPacking.IsPacked(packed));
        packed[^3] ^= 0xFF;

        var error = Assert.Throws<StoreException>(() => ItemBlock.Items(0, 99, ItemStatus.Pending, default, false, packed, null, default, false));

        Assert.Contains("may be damaged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShortBlocks_StayPlainText()
    {
        var framed = new System.Buffers.ArrayBufferWriter<byte>();
        ItemBlock.Encode(framed, ["a", "b"]);

        Assert.False(BlockPacking.IsPacked(BlockPacking.Pack(framed.WrittenSpan, new System.Buffers.ArrayBufferWriter<byte>())));
    }

    [Theory]
    [InlineData("plain|", "|with:colon|12:34|~|line\nbreak")]
    [InlineData("~|~~", "0:|")]
    [InlineData("naïve|日本語", "|emoji 🙂|")]
    public void Framing_RoundTripsAnyText(string first, string rest)
    {
        string?[] withNull = [.. (first + rest).Split('|'), null, "after null"];

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        ItemBlock.Encode(buffer, withNull);

        Assert.Equal(withNull, ItemBlock.Decode(buffer.WrittenSpan, withNull.Length));
    }
}
