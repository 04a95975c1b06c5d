using BatchOps.Engine.Jobs;
using Polly;

namespace BatchOps.Engine.Execution;

internal sealed partial class BatchRun<TIn, TOut>
{
    private async Task ChunkWorkerAsync()
    {
        var reader = _chunkQueue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var chunk))
            {
                await RunChunkAsync(chunk).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask RunChunkAsync(Chunk<TIn, TOut> chunk)
    {
        if (IsHalted)
        {
            for (var slot = 0; slot < chunk.Items.Length; slot++)
            {
                Finish(chunk, slot, NotStarted(chunk.Items[slot]));
            }

            return;
        }

        _progress.Started(chunk.Items.Length);
        await RunSegmentAsync(chunk, 0, chunk.Items.Length, _time.GetUtcNow(), _time.GetTimestamp()).ConfigureAwait(false);
    }

    /// <summary>
    /// Calls the bulk operation for a segment of a chunk; when the call fails, splits the segment in halves
    /// and runs each, recursively, until every good item has succeeded and each bad item failed alone.
    /// With k bad items a chunk of size n takes at most 1 + 2·k·log2(n) calls.
    /// </summary>
    private async ValueTask RunSegmentAsync(Chunk<TIn, TOut> chunk, int start, int count, DateTimeOffset startedAt, long started)
    {
        var segment = new ArraySegment<BatchItem<TIn>>(chunk.Items, start, count);
        var callsBefore = chunk.Attempts[start];
        var outcome = await InvokeChunkWithPipelineAsync(chunk, segment).ConfigureAwait(false);
        var calls = chunk.Attempts[start] - callsBefore;
        for (var slot = start + 1; slot < start + count; slot++)
        {
            chunk.Attempts[slot] += calls;
        }

        // The items of one call end together: one clock read for all of them.
        var ended = _time.GetTimestamp();
        if (outcome.Exception is null)
        {
            var outputs = outcome.Result;
            for (var i = 0; i < count; i++)
            {
                var output = outputs is null ? Outcome.FromResult<TOut>(default!) : Outcome.FromResult(outputs[i]);
                EndSegmentItem(chunk, start + i, output, startedAt, started, ended);
            }

            return;
        }

        var cancelled = outcome.Exception is OperationCanceledException && ForcedToken.IsCancellationRequested;
        if (count == 1 || cancelled || outcome.Exception is OutputCountMismatchException or BatchLimitException)
        {
            for (var i = 0; i < count; i++)
            {
                EndSegmentItem(chunk, start + i, Outcome.FromException<TOut>(outcome.Exception), startedAt, started, ended);
            }

            return;
        }

        var half = count / 2;
        await RunSegmentAsync(chunk, start, half, startedAt, started).ConfigureAwait(false);
        await RunSegmentAsync(chunk, start + half, count - half, startedAt, started).ConfigureAwait(false);
    }

    private void EndSegmentItem(Chunk<TIn, TOut> chunk, int slot, Outcome<TOut> outcome, DateTimeOffset startedAt, long started, long ended)
    {
        Finish(chunk, slot, Conclude(chunk.Items[slot], outcome, chunk.Attempts[slot], startedAt, started, ended));
    }

    private async ValueTask<Outcome<IReadOnlyList<TOut>?>> InvokeChunkWithPipelineAsync(Chunk<TIn, TOut> chunk, ArraySegment<BatchItem<TIn>> segment)
    {
        var context = ResilienceContextPool.Shared.Get(ForcedToken);
        context.Properties.Set(ResiliencePipelineFactory.ItemIndex, segment[0].Index);
        context.Properties.Set(ResiliencePipelineFactory.ItemCount, segment.Count);
        try
        {
            return await _pipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    state.Chunk.Attempts[state.Segment.Offset]++;
                    if (state.Run._rateGate is { } gate)
                    {
                        try
                        {
                            await gate.WaitAsync(ctx.CancellationToken).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException cancelled)
                        {
                            return Outcome.FromException<IReadOnlyList<TOut>?>(cancelled);
                        }
                    }

                    return await state.Run.InvokeChunkAsync(state.Segment, ctx.CancellationToken).ConfigureAwait(false);
                },
                context,
                (Run: this, Chunk: chunk, Segment: segment)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<Outcome<IReadOnlyList<TOut>?>> InvokeChunkAsync(ArraySegment<BatchItem<TIn>> segment, CancellationToken cancellationToken)
    {
        try
        {
            var outputs = await _operation.PerChunkOperation!(segment, cancellationToken).ConfigureAwait(false);
            if (outputs is not null && outputs.Count != segment.Count)
            {
                return Outcome.FromException<IReadOnlyList<TOut>?>(new OutputCountMismatchException(outputs.Count, segment.Count));
            }

            return Outcome.FromResult<IReadOnlyList<TOut>?>(outputs);
        }
        catch (Exception error)
        {
            return Outcome.FromException<IReadOnlyList<TOut>?>(error);
        }
    }
}
