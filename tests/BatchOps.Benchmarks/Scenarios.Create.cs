using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Benchmarks;

/// <summary>Creating a job whole (Creating, its items, then Pending) against writing the same records straight to the store.</summary>
public sealed partial class Scenarios
{
    /// <summary>
    /// Items/s of JobRunner.CreateAsync for 1,000,000 items (chunk 1,000) against the store calls the old
    /// creation made (a Pending job, then its item blocks), both on a fresh SQLite store in this process,
    /// best of three each. The goal: the whole-or-nothing creation is at most 20 % slower (ratio ≥ 0.83).
    /// </summary>
    public async Task<ScenarioResult> CreateAsync()
    {
        var count = Scale(1_000_000, 100_000);
        const int chunk = 1000;
        var settings = new JobSettings { ChunkSize = chunk };
        var whole = TimeSpan.MaxValue;
        var direct = TimeSpan.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var w = await Measure.TimeAsync(async () =>
            {
                using var store = SqliteJobStore.Open(Folder("create-whole"));
                var job = await new JobRunner(store).CreateAsync(new JobDefinition { Name = "bench", OperationKind = "noop", Operation = "{}", Settings = settings }, Enumerable.Range(0, count), IntCodec.Instance, "text");
                if (job.Counts.Pending != count)
                {
                    throw new InvalidOperationException($"created {job.Counts.Pending} of {count} items");
                }
            });
            var d = await Measure.TimeAsync(async () =>
            {
                using var store = SqliteJobStore.Open(Folder("create-direct"));
                var job = new JobRecord { Id = JobRecord.NewId(), Name = "bench", OperationKind = "noop", Operation = "{}", Settings = settings, InputFormat = "text", OutputFormat = "text" };
                await store.CreateJobAsync(job);
                foreach (var batch in Enumerable.Range(0, count).Chunk(chunk))
                {
                    await store.AddItemBlocksAsync(job.Id, [.. batch.Select(i => new StoredItem { Index = i, Input = IntCodec.Instance.Serialize(i) })], chunk);
                }
            });
            whole = w < whole ? w : whole;
            direct = d < direct ? d : direct;
        }

        return Result("create", "whole-or-nothing creation items/s", count / whole.TotalSeconds, "direct store writes items/s", count / direct.TotalSeconds, ">= 0.83", 0.83,
            new() { ["items"] = count, ["chunkSize"] = chunk, ["wholeMs"] = whole.TotalMilliseconds, ["directMs"] = direct.TotalMilliseconds });
    }
}
