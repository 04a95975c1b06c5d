using System.Text;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Tests.Store;

/// <summary>
/// Jobs over a JSON Lines items file: the file is checked line by line, the job keeps where each chunk's
/// items are in it instead of copies, its first run reads the file straight through, and every later read
/// (resume, retry, items, export) takes them from the file, refusing a file that changed.
/// </summary>
public sealed class ItemsFileTests : StoreTest
{
    private string WriteItems(int count, Func<int, string>? line = null)
    {
        var path = Folder.File($"items-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(line ?? (i => $$"""{"n":{{i}},"name":"item {{i}}"}""")));
        return path;
    }

    private static JobDefinition Definition(int chunkSize, bool stopOnError = false, int throttle = 2) =>
        new() { Name = "from a file", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = chunkSize, ThrottleLimit = throttle, StopOnError = stopOnError } };

    private Task<JobRunResult> RunAsync(string jobId, Func<JsonElement, string> work, ItemsFile? file = null, RunKind kind = RunKind.Resume) =>
        Runner.RunAsync(jobId, new JobRunRequest<JsonElement, string?>
        {
            // A chunk with a row whose work says "fail" fails whole, as a database transaction would.
            Operation = BatchOperation<JsonElement, string?>.PerChunk((items, _) =>
            {
                var outputs = items.Select(i => (string?)work(i.Value)).ToList();
                return outputs.Contains("fail") ? throw new InvalidOperationException("a bad row") : ValueTask.FromResult<IReadOnlyList<string?>?>(outputs);
            }),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            ItemsFile = file,
            Kind = kind,
        });

    private long StoredInputBytes() => Scalar("SELECT coalesce(sum(length(inputs)), 0) FROM item_blocks");

    [Fact]
    public void Scan_CountsTheItems_SkipsBlankLinesAndTheByteOrderMark_AndTilesTheFileInRanges()
    {
        var path = Folder.File("mixed.jsonl");
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes("\uFEFF{\"a\":1}\r\n\r\n  \n{\"a\":2}\n{\"a\":3}\r\n{\"a\":4}\n\n{\"a\":5}"));
        var seen = new List<(int Value, long Index)>();

        var file = ItemsFile.Scan(path, rangeSize: 2, (item, index) => seen.Add((item.GetProperty("a").GetInt32(), index)), item => $"k{item.GetProperty("a").GetInt32()}");

        Assert.Equal(5, file.Count);
        Assert.Equal([(1, 0L), (2, 1L), (3, 2L), (4, 3L), (5, 4L)], seen);
        Assert.Equal([(0L, 1L), (2L, 3L), (4L, 4L)], file.Ranges.Select(r => (r.First, r.Last)));
        Assert.Equal(0, file.Ranges[0].Offset);
        Assert.All(file.Ranges.Zip(file.Ranges.Skip(1)), pair => Assert.Equal(pair.First.Offset + pair.First.Length, pair.Second.Offset));
        Assert.Equal(new FileInfo(path).Length, file.Ranges[^1].Offset + file.Ranges[^1].Length);
        Assert.Equal(["k3", "k4"], file.Ranges[1].Keys!);
        Assert.Equal([1, 2, 3, 4, 5], file.Select(e => e.GetProperty("a").GetInt32()));
        Assert.Equal(["{\"a\":5}"], file.Source.ReadRange(file.Ranges[2]));
    }

    [Fact]
    public void Scan_OfALineThatIsNotJson_NamesTheFileAndTheLine()
    {
        var path = WriteItems(3, i => i == 2 ? "{\"n\": 2,}" : $"{{\"n\":{i}}}");
        File.AppendAllText(path, "\n{\"n\": 4} extra\n");

        var error = Assert.Throws<InvalidDataException>(() => ItemsFile.Scan(path, 10));

        Assert.StartsWith($"{Path.GetFullPath(path)}, line 3: not a JSON value", error.Message, StringComparison.Ordinal);
        Assert.Contains("Each line of an items file holds one JSON value", error.Message, StringComparison.Ordinal);
        File.WriteAllLines(path, ["{\"n\": 1}", "{\"n\": 2} extra"]);
        Assert.Contains("line 2:", Assert.Throws<InvalidDataException>(() => ItemsFile.Scan(path, 10)).Message, StringComparison.Ordinal);
        File.WriteAllLines(path, ["{\"n\": 1}", "{\"n\": 2}", "{\"n\": 3}, {\"n\": 4}"]);
        Assert.Contains("line 3:", Assert.Throws<InvalidDataException>(() => ItemsFile.Scan(path, 10)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AJobFromAFile_KeepsNoCopies_AndItsFirstRunReadsTheFileStraightThrough()
    {
        var path = WriteItems(2_500);
        var file = ItemsFile.Scan(path, 1_000);
        var job = await Runner.CreateAsync(Definition(1_000), file, TextPayloadCodec.Instance.Format);

        Assert.Equal(0, StoredInputBytes());
        Assert.Equal(file.Source, (await Store.GetJobAsync(job.Id))!.ItemsFile);
        Assert.Equal(2_500, job.Counts.Pending);
        var pending = await ItemsAsync(job.Id);
        Assert.Equal(Enumerable.Range(0, 2_500).Select(i => $$"""{"n":{{i}},"name":"item {{i}}"}"""), pending.Select(i => i.Input));

        var result = await RunAsync(job.Id, item => $"done {item.GetProperty("n").GetInt32()}", file);

        Assert.Equal(JobStatus.Completed, result.Job.Status);
        Assert.Equal(2_500, result.Job.Counts.Succeeded);
        Assert.Contains(File.ReadAllLines(Directory.GetFiles(Folder.File("logs"))[0]), line => line.Contains($"items are read straight from {file.Source.Path}", StringComparison.Ordinal));
        var done = await ItemsAsync(job.Id);
        Assert.Equal("done 1234", done[1234].Output);
        Assert.Equal("""{"n":1234,"name":"item 1234"}""", done[1234].Input);
        Assert.Equal(0, StoredInputBytes());
    }

    [Fact]
    public void ReadForARun_FreesEachRangesDocument_OnceAllItsItemsAreDone()
    {
        var file = ItemsFile.Scan(WriteItems(25), 10);
        using var documents = new RangeDocuments();

        var items = file.Read(JsonPayloadCodec.Instance, documents).ToList();

        Assert.Equal(3, documents.Open);
        documents.Release(Done(items.Take(9)));
        Assert.Equal(3, documents.Open);
        documents.Release(Done(items.Skip(9).Take(1)));
        Assert.Equal(2, documents.Open);
        // A value of a freed range is gone for good (a clear error, never another range's data); the others stay readable.
        Assert.Throws<ObjectDisposedException>(() => items[3].Value.GetProperty("n"));
        Assert.Equal(17, items[17].Value.GetProperty("n").GetInt32());
        documents.Release(Done(items.Skip(10)));
        Assert.Equal(0, documents.Open);

        static List<ItemResult<JsonElement, string?>> Done(IEnumerable<BatchItem<JsonElement>> done) =>
            done.Select(i => new ItemResult<JsonElement, string?> { Index = i.Index, Input = i.Value, Status = ItemStatus.Succeeded }).ToList();
    }

    [Fact]
    public void ReadForARun_GoesOnToTheNextRange_AfterTheLastOneWasFreed()
    {
        // The reader may resume only after a whole range ran and was freed (a fast chunk, a slow reader):
        // moving on to the next item must not touch the freed range's document.
        var file = ItemsFile.Scan(WriteItems(25), 10);
        using var documents = new RangeDocuments();
        using var reader = file.Read(JsonPayloadCodec.Instance, documents).GetEnumerator();
        var first = new List<BatchItem<JsonElement>>();
        while (first.Count < 10 && reader.MoveNext())
        {
            first.Add(reader.Current);
        }

        documents.Release(first.Select(i => new ItemResult<JsonElement, string?> { Index = i.Index, Input = i.Value, Status = ItemStatus.Succeeded }).ToList());
        Assert.Equal(0, documents.Open);

        Assert.True(reader.MoveNext());
        Assert.Equal((10L, 10), (reader.Current.Index, reader.Current.Value.GetProperty("n").GetInt32()));
    }

    [Fact]
    public async Task TheFirstRun_GivesObserversEveryInput_UntilItsChunkIsDone()
    {
        var file = ItemsFile.Scan(WriteItems(2_000), 500);
        var job = await Runner.CreateAsync(Definition(500), file, TextPayloadCodec.Instance.Format);
        var observer = new InputReader();

        var result = await Runner.RunAsync(job.Id, new JobRunRequest<JsonElement, string?>
        {
            Operation = BatchOperation<JsonElement, string?>.PerChunk((items, _) => ValueTask.FromResult<IReadOnlyList<string?>?>(items.Select(i => (string?)"ok").ToList())),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            ItemsFile = file,
            Observer = observer,
        });

        Assert.Equal(2_000, result.Job.Counts.Succeeded);
        Assert.Equal(Enumerable.Range(0, 2_000).Sum(), observer.SumOnItem);
        Assert.Equal(Enumerable.Range(0, 2_000).Sum(), observer.SumOnChunk);
    }

    /// <summary>Reads every input when its item completes and again when its chunk does.</summary>
    private sealed class InputReader : BatchObserver<JsonElement, string?>
    {
        private long _onItem;
        private long _onChunk;

        public long SumOnItem => Interlocked.Read(ref _onItem);

        public long SumOnChunk => Interlocked.Read(ref _onChunk);

        public override void OnItemCompleted(ItemResult<JsonElement, string?> result) =>
            Interlocked.Add(ref _onItem, result.Input.GetProperty("n").GetInt32());

        public override ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<JsonElement, string?>> results)
        {
            Interlocked.Add(ref _onChunk, results.Sum(r => r.Input.GetProperty("n").GetInt32()));
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task FailedRows_AreCopiedIntoTheStore_SoARetryNeedsNoFile()
    {
        var path = WriteItems(4_000);
        var file = ItemsFile.Scan(path, 1_000);
        var job = await Runner.CreateAsync(Definition(1_000), file, TextPayloadCodec.Instance.Format);

        // Rows 999, 1999 and 2999 fail; the last chunk succeeds whole and stays a range of the file.
        var first = await RunAsync(job.Id, item => item.GetProperty("n").GetInt32() is var n && n % 1000 == 999 && n < 3000 ? "fail" : "ok", file);
        Assert.Equal(3, first.Job.Counts.Failed);
        File.Delete(path);
        var retry = await RunAsync(job.Id, _ => "fixed", kind: RunKind.RetryFailed);

        Assert.Equal(JobStatus.Completed, retry.Job.Status);
        var retried = await ItemsAsync(job.Id, new ItemQuery { Indexes = [999, 1999, 2999] });
        Assert.Equal(["fixed", "fixed", "fixed"], retried.Select(i => i.Output));
        Assert.Equal("""{"n":1999,"name":"item 1999"}""", retried[1].Input);
        var error = await Assert.ThrowsAsync<StoreException>(() => ItemsAsync(job.Id));
        Assert.Contains($"The items file '{file.Source.Path}' is gone", error.Message, StringComparison.Ordinal);
        Assert.Contains("put the file back", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResume_ReadsWhatIsLeftFromTheFile()
    {
        var path = WriteItems(5_000);
        var file = ItemsFile.Scan(path, 1_000);
        // One chunk at a time: the failure in the second chunk stops the run before the last three run.
        var job = await Runner.CreateAsync(Definition(1_000, stopOnError: true, throttle: 1), file, TextPayloadCodec.Instance.Format);
        var first = await RunAsync(job.Id, item => item.GetProperty("n").GetInt32() == 1_999 ? "fail" : "ok", file);
        Assert.Equal(JobStatus.Failed, first.Job.Status);
        var unfinished = (await ItemsAsync(job.Id, ItemQuery.Unfinished)).Select(i => (int)i.Index).ToList();
        Assert.NotEmpty(unfinished);

        var seen = new List<int>();
        var resumed = await RunAsync(job.Id, item =>
        {
            lock (seen)
            {
                seen.Add(item.GetProperty("n").GetInt32());
            }

            return "later";
        }, file);

        seen.Sort();
        Assert.Equal(unfinished, seen);
        Assert.Equal(5_000 - 1, resumed.Job.Counts.Succeeded);
        Assert.Equal(1, resumed.Job.Counts.Failed);
    }

    [Fact]
    public async Task AFileChangedAfterTheJobWasCreated_IsRefused_AndNothingRecordedIsLost()
    {
        var path = WriteItems(2_000);
        var file = ItemsFile.Scan(path, 1_000);
        var job = await Runner.CreateAsync(Definition(1_000), file, TextPayloadCodec.Instance.Format);
        File.AppendAllText(path, "{\"n\": 2000}\n");

        var result = await RunAsync(job.Id, _ => "ok", file);

        Assert.Equal(JobStatus.Failed, result.Job.Status);
        Assert.Contains("changed after the job was created", result.Job.Message, StringComparison.Ordinal);
        Assert.Equal(2_000, result.Job.Counts.Pending);
        var error = await Assert.ThrowsAsync<StoreException>(() => ItemsAsync(job.Id));
        Assert.Contains("restore the original file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStoreWithoutRanges_KeepsCopies_AndRunsTheSameJob()
    {
        using var memory = new InMemoryJobStore();
        var runner = new JobRunner(memory);
        var file = ItemsFile.Scan(WriteItems(1_500), 500);
        var job = await runner.CreateAsync(Definition(500), file, TextPayloadCodec.Instance.Format);

        var result = await runner.RunAsync(job.Id, new JobRunRequest<JsonElement, string?>
        {
            Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(item.Value.GetProperty("name").GetString())),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });

        Assert.Equal(1_500, result.Job.Counts.Succeeded);
    }

    [Fact]
    public void ReadWithAnotherCodec_DecodesEachLineAsText()
    {
        var file = ItemsFile.Scan(WriteItems(3), 2);

        Assert.Equal(["{\"n\":0,\"name\":\"item 0\"}", "{\"n\":1,\"name\":\"item 1\"}", "{\"n\":2,\"name\":\"item 2\"}"], file.Read(TextPayloadCodec.Instance).Select(i => i.Value));
        Assert.Equal([0L, 1L, 2L], file.Read(TextPayloadCodec.Instance).Select(i => i.Index));
    }

    [Fact]
    public async Task TheChunkSize_MustMatchTheRanges()
    {
        var file = ItemsFile.Scan(WriteItems(10), 5);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Runner.CreateAsync(Definition(4), file, TextPayloadCodec.Instance.Format));

        Assert.Contains("scan it with the chunk size", error.Message, StringComparison.Ordinal);
    }
}
