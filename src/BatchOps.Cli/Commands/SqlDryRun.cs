using System.Text.Json;
using BatchOps.Operations;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Sql;

namespace BatchOps.Cli.Commands;

/// <summary>
/// <c>batchops run SPEC --dry-run</c> for the sql kind: every chunk runs in a transaction that is rolled
/// back; prints what each chunk would do and each row that would fail. No job is created.
/// </summary>
internal static class SqlDryRun
{
    public static async Task<int> RunAsync(CliSession session, LoadedJob loaded)
    {
        var operation = ((SqlTableOperation)loaded.Operation).Operation;
        session.Out.WriteLine($"Dry run of '{loaded.Definition.Name}': {operation.Describe()}, {loaded.Items.Count} row(s); nothing is changed.");
        // One line per chunk, once all its rows are accounted for (a split chunk reports each piece).
        var tally = new DryRunTally(loaded.Definition.Settings.ToOptions().ChunkSize, loaded.Items.Count);
        void Print(DryRunChunk? chunk)
        {
            if (chunk is not null)
            {
                lock (session.Out)
                {
                    session.Out.WriteLine($"  rows {chunk.FirstIndex}-{chunk.LastIndex}: {chunk.Describe()}");
                }
            }
        }

        operation.ChunkCompleted = report => Print(tally.Add(report));
        var failures = new FailurePrinter(session.Out, index => Print(tally.AddFailure(index)));
        var summary = await BatchExecutor.RunAsync(
            loaded.Items,
            BatchOperation<JsonElement, string?>.PerChunk(operation.ToChunkOperation("dry-run", dryRun: true)),
            loaded.Definition.Settings.ToOptions(),
            failures,
            cancellationToken: session.Interrupt).ConfigureAwait(false);
        var totals = operation.Totals.Select(t => (t.Key, t.Value)).ToList();
        if (summary.Failed > 0)
        {
            totals.Add(("would fail", summary.Failed));
        }

        session.Out.WriteLine($"Would do: {DryRunTally.Format(totals)}.{(summary.Message is { } message ? $" {message}" : string.Empty)}");
        return summary.Failed > 0 || summary.StopReason != StopReason.None ? ExitCodes.Failed : ExitCodes.Success;
    }

    private sealed class FailurePrinter(TextWriter output, Action<long> failed) : BatchObserver<JsonElement, string?>
    {
        public override void OnItemCompleted(ItemResult<JsonElement, string?> result)
        {
            if (result.Status == ItemStatus.Failed)
            {
                lock (output)
                {
                    var message = result.Error!.Message;
                    output.WriteLine($"  would fail: {(message.StartsWith("row ", StringComparison.Ordinal) ? message : $"row {result.Index}: {message}")}");
                }

                failed(result.Index);
            }
        }
    }
}
