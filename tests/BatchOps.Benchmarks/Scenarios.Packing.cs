using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Benchmarks;

/// <summary>
/// What packing item blocks costs and saves: the durable run (200,000 items through SQLite, chunks of 100)
/// with the payloads PowerShell jobs store (compact CliXml of an integer in, the same out; or an integer in,
/// a two-property object out), blocks packed against the same run with packing off, in pairs of runs in
/// alternating order; the median of the pairs' ratios. Bytes per item on disk are reported for both.
/// </summary>
public sealed partial class Scenarios
{
    private const string ObjectOutput =
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><S N=\"Name\">srv{0}</S><B N=\"Ok\">true</B></MS></Obj>";

    /// <summary>Engine+SQLite items/s with blocks packed, over the same with packing off.</summary>
    public async Task<ScenarioResult> PackingAsync()
    {
        var count = Scale(200_000, 20_000);
        var figures = new Dictionary<string, double> { ["items"] = count };
        var ratios = new List<double>();
        foreach (var (shape, output) in new (string, Func<int, string>)[]
        {
            ("ints", n => $"<I32>{n}</I32>"),
            ("objects", n => string.Format(System.Globalization.CultureInfo.InvariantCulture, ObjectOutput, n)),
        })
        {
            var round = 0;
            async Task<(TimeSpan Time, long Bytes)> RunAsync(bool pack)
            {
                var folder = Folder($"packing-{shape}-{round++}");
                TimeSpan elapsed;
                using (var store = SqliteJobStore.Open(folder))
                {
                    store.PackBlocks = pack;
                    var runner = new JobRunner(store);
                    var job = await runner.CreateAsync(
                        new JobDefinition { Name = "bench", OperationKind = "noop", Operation = "{}", Settings = new JobSettings { ChunkSize = 100, ThrottleLimit = Environment.ProcessorCount } },
                        Enumerable.Range(0, count).Select(n => $"<I32>{n}</I32>"), TextPayloadCodec.Instance, "clixml");
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var result = await runner.RunAsync(job.Id, new JobRunRequest<string?, string?>
                    {
                        Operation = BatchOperation<string?, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(output((int)item.Index))),
                        InputCodec = TextPayloadCodec.Instance,
                        OutputCodec = TextPayloadCodec.Instance,
                    });
                    elapsed = clock.Elapsed;
                    if (result.Job.Counts.Succeeded != count)
                    {
                        throw new InvalidOperationException($"packing run recorded {result.Job.Counts.Succeeded} of {count} items");
                    }
                }

                return (elapsed, BatchOps.Testing.SqliteFileSize.UsedBytes(Path.Combine(folder, StoreLocation.DatabaseFileName)));
            }

            await RunAsync(pack: true);
            long packedBytes = 0, plainBytes = 0;
            var shapeRatios = new List<double>();
            for (var pair = 0; pair < Scale(5, 2); pair++)
            {
                var first = await RunAsync(pack: pair % 2 == 0);
                var second = await RunAsync(pack: pair % 2 != 0);
                var (packed, plain) = pair % 2 == 0 ? (first, second) : (second, first);
                shapeRatios.Add(plain.Time / packed.Time);
                (packedBytes, plainBytes) = (packed.Bytes, plain.Bytes);
            }

            shapeRatios.Sort();
            ratios.Add(shapeRatios[shapeRatios.Count / 2]);
            figures[$"{shape}PackedOverPlain"] = shapeRatios[shapeRatios.Count / 2];
            figures[$"{shape}BytesPerItemPacked"] = (double)packedBytes / count;
            figures[$"{shape}BytesPerItemPlain"] = (double)plainBytes / count;
        }

        Levels(figures);

        // The worse of the two shapes is the figure judged.
        var ratio = ratios.Min();
        return Result("packing", "packed/plain items/s", ratio, "the same run, packing off", 1.0, ">= 0.95", 0.95, figures, ratio: ratio);
    }

    /// <summary>
    /// Why quality 1: one 100-item block of each shape (inputs of integers; outputs of the two-property
    /// object, each item with its own timing as per-item runs write them), packed at each Brotli quality:
    /// bytes per item and microseconds per block (the best of 50 packs).
    /// </summary>
    private static void Levels(Dictionary<string, double> figures)
    {
        var blocks = new (string Name, IEnumerable<string?> Values)[]
        {
            ("ints", Enumerable.Range(0, 100).Select(n => (string?)$"<I32>{n}</I32>")),
            ("objects", Enumerable.Range(0, 100).SelectMany(n => new string?[]
            {
                "1", $"{1_765_000_000_000L + (n * 3)}", $"{1_765_000_000_002L + (n * 3)}", $"{2.0 + (n % 7 / 10.0)}",
                string.Format(System.Globalization.CultureInfo.InvariantCulture, ObjectOutput, n),
            })),
        };
        foreach (var (name, values) in blocks)
        {
            var framed = new System.Buffers.ArrayBufferWriter<byte>();
            ItemBlock.Encode(framed, values);
            figures[$"{name}BlockBytes"] = framed.WrittenCount;
            var packed = new byte[System.IO.Compression.BrotliEncoder.GetMaxCompressedLength(framed.WrittenCount)];
            foreach (var quality in new[] { 0, 1, 4, 6, 9, 11 })
            {
                var best = TimeSpan.MaxValue;
                var written = 0;
                for (var i = 0; i < 50; i++)
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    System.IO.Compression.BrotliEncoder.TryCompress(framed.WrittenSpan, packed, out written, quality, 16);
                    best = clock.Elapsed < best ? clock.Elapsed : best;
                }

                figures[$"{name}Q{quality}BytesPerItem"] = written / 100.0;
                figures[$"{name}Q{quality}MicrosPerBlock"] = best.TotalMicroseconds;
            }
        }
    }
}
