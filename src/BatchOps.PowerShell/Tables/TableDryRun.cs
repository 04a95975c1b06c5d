using System.Text.Json;
using System.Threading.Channels;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Sql;

namespace BatchOps.PowerShell.Tables;

/// <summary>
/// Write-BatchTable -WhatIf: the piped rows run through the sql operation in rolled-back transactions while
/// they arrive (a bounded queue, so any number of rows takes bounded memory); at the end it says what each
/// chunk would have done and which rows would fail.
/// </summary>
internal sealed class TableDryRun : IDisposable
{
    private readonly Channel<BatchItem<JsonElement>> _rows;
    private readonly List<SqlChunkReport> _reports = [];
    private readonly FailureCollector _failures = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<JobSummary> _run;
    private long _count;

    public TableDryRun(SqlOperation operation, BatchOptions options)
    {
        Operation = operation;
        ChunkSize = options.ChunkSize;
        _rows = Channel.CreateBounded<BatchItem<JsonElement>>(new BoundedChannelOptions(Math.Max(options.ChunkSize * 2, 256)) { SingleWriter = true });
        operation.ChunkCompleted = report =>
        {
            lock (_reports)
            {
                _reports.Add(report);
            }
        };
        _run = Task.Run(() => BatchExecutor.RunAsync(
            _rows.Reader.ReadAllAsync(_stop.Token),
            BatchOperation<JsonElement, string?>.PerChunk(operation.ToChunkOperation("dry-run", dryRun: true)),
            options,
            _failures,
            cancellationToken: _stop.Token));

        // A run that ends early (a stop, maxAffected) reads no more: let a waiting writer go.
        _run.ContinueWith(_ => _rows.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public SqlOperation Operation { get; }

    public int ChunkSize { get; }

    /// <summary>Hands a row over; waits while the queue is full. False once the run has stopped.</summary>
    public bool Add(JsonElement row)
    {
        var item = new BatchItem<JsonElement>(_count, row);
        try
        {
            while (!_rows.Writer.TryWrite(item))
            {
                if (!_rows.Writer.WaitToWriteAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
                {
                    return false;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        _count++;
        return true;
    }

    /// <summary>Ends the input and waits for the run: each complete chunk, the rows that would fail, the totals.</summary>
    public (IReadOnlyList<DryRunChunk> Chunks, IReadOnlyList<(long Index, string Message)> Failed, JobSummary Summary, long Rows) Complete()
    {
        _rows.Writer.TryComplete();
        var summary = _run.GetAwaiter().GetResult();
        var tally = new DryRunTally(ChunkSize, _count);
        var failed = _failures.Failed.OrderBy(f => f.Index).ToList();
        var chunks = _reports.Select(tally.Add).Concat(failed.Select(f => tally.AddFailure(f.Index))).OfType<DryRunChunk>().OrderBy(c => c.FirstIndex).ToList();
        return (chunks, failed, summary, _count);
    }

    /// <summary>Ctrl+C: stops the run; rows not yet checked are not reported.</summary>
    public void Stop()
    {
        _rows.Writer.TryComplete();
        _stop.Cancel();
    }

    public void Dispose()
    {
        Stop();
        try
        {
            _run.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    private sealed class FailureCollector : BatchObserver<JsonElement, string?>
    {
        public List<(long Index, string Message)> Failed { get; } = [];

        public override void OnItemCompleted(ItemResult<JsonElement, string?> result)
        {
            if (result.Status == Engine.Jobs.ItemStatus.Failed)
            {
                lock (Failed)
                {
                    Failed.Add((result.Index, result.Error?.Message ?? "failed"));
                }
            }
        }
    }
}
