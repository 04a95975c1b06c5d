using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Diagnostics;

/// <summary>
/// Runs a small durable job end to end (SQLite store, runner, engine) and describes the result: the quickest
/// way to prove that a deployed module finds all of its assemblies and its native SQLite library.
/// </summary>
public static class EngineSelfTest
{
    /// <summary>Runs 20 items through a new store in <paramref name="storeFolder"/>; returns "Completed 20/20 with SQLite x.y.z".</summary>
    public static async Task<string> RunAsync(string storeFolder)
    {
        using var store = SqliteJobStore.Open(storeFolder);
        var runner = new JobRunner(store);
        var items = Enumerable.Range(0, 20).Select(i => JsonSerializer.SerializeToElement(i));
        var job = await runner.CreateAsync(
            new JobDefinition { Name = "self-test", OperationKind = "self-test", Operation = "{}", Settings = new JobSettings { ChunkSize = 5, ThrottleLimit = 4, RetryCount = 1, RetryDelayMs = 1 } },
            items,
            JsonPayloadCodec.Instance,
            TextPayloadCodec.Instance.Format).ConfigureAwait(false);
        var result = await runner.RunAsync(job.Id, new JobRunRequest<JsonElement, string?>
        {
            Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) => ValueTask.FromResult<string?>((item.Value.GetInt32() * 2).ToString(System.Globalization.CultureInfo.InvariantCulture))),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        }).ConfigureAwait(false);
        return $"{result.Job.Status} {result.Job.Counts.Succeeded}/{result.Job.Counts.Total} with SQLite {SqliteJobStore.NativeVersion}";
    }
}
