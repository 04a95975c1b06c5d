using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Operations.Spec;

/// <summary>
/// The dry run of a sql spec, for both front ends (<c>batchops run SPEC --dry-run</c>, Invoke-BatchJob
/// -SpecPath -WhatIf): every chunk runs against the database in a transaction that is rolled back; the lines
/// say what each chunk would do and each row that would fail, then the totals. No job is created.
/// </summary>
public static class SqlDryRun
{
    /// <summary>Whether the spec's dry run is this one (a sql job without stages) rather than <see cref="DryRunPlan"/>.</summary>
    public static bool Applies(LoadedJob loaded)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        return loaded.Stages is null && loaded.Operation is SqlTableOperation;
    }

    /// <summary>
    /// Runs it, handing each line to <paramref name="line"/> as it comes (from the chunks' threads, one at a
    /// time); true when every row would succeed and nothing stopped the run.
    /// </summary>
    public static async Task<bool> RunAsync(LoadedJob loaded, Action<string> line, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(line);
        var gate = new object();
        void Say(string text)
        {
            lock (gate)
            {
                line(text);
            }
        }

        var operation = ((SqlTableOperation)loaded.Operation).Operation;
        var options = loaded.Definition.Settings.ToOptions();
        Say($"Dry run of '{loaded.Definition.Name}': {operation.Describe()}, {loaded.Items.Count} row(s); nothing is changed.");

        // One line per chunk, once all its rows are accounted for (a split chunk reports each piece).
        var tally = new Sql.DryRunTally(options.ChunkSize, loaded.Items.Count);
        void Chunk(Sql.DryRunChunk? chunk)
        {
            if (chunk is not null)
            {
                Say($"  rows {chunk.FirstIndex}-{chunk.LastIndex}: {chunk.Describe()}");
            }
        }

        operation.ChunkCompleted = report => Chunk(tally.Add(report));
        var failures = new FailureLines(Say, index => Chunk(tally.AddFailure(index)));
        var summary = await BatchExecutor.RunAsync(
            loaded.Items,
            BatchOperation<JsonElement, string?>.PerChunk(operation.ToChunkOperation("dry-run", dryRun: true)),
            options,
            failures,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var totals = operation.Totals.Select(t => (t.Key, t.Value)).ToList();
        if (summary.Failed > 0)
        {
            totals.Add(("would fail", summary.Failed));
        }

        Say($"Would do: {Sql.DryRunTally.Format(totals)}.{(summary.Message is { } message ? $" {message}" : string.Empty)}");
        return summary.Failed == 0 && summary.StopReason == StopReason.None;
    }

    private sealed class FailureLines(Action<string> say, Action<long> failed) : BatchObserver<JsonElement, string?>
    {
        public override void OnItemCompleted(ItemResult<JsonElement, string?> result)
        {
            if (result.Status == ItemStatus.Failed)
            {
                var message = TerminalText.Escape(result.Error!.Message);
                say($"  would fail: {(message.StartsWith("row ", StringComparison.Ordinal) ? message : $"row {result.Index}: {message}")}");
                failed(result.Index);
            }
        }
    }
}
