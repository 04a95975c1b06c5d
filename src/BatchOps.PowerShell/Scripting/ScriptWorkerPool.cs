using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// Runs a script-block operation: in worker runspaces (one per throttle slot, opened once, never one per
/// item), or in the caller's own runspace on the pipeline thread (ThrottleLimit 1 with -UseCallerRunspace).
/// </summary>
internal sealed class ScriptWorkerPool : IDisposable
{
    private readonly WorkQueue _queue = new();
    private readonly List<ScriptWorker> _workers = [];
    private readonly List<Runspace> _runspaces = [];
    private readonly object?[] _argumentList;
    private readonly PipelinePump _pump;
    private readonly ScriptBlock? _callerBlock;
    private readonly List<PSVariable> _callerVariables = [];

    private readonly bool _wantsContext;
    private readonly RetryPredicates? _retry;

    /// <summary>Attempts so far per item (or chunk, by its first index) in this run; an item's entry goes when it succeeds.</summary>
    private readonly ConcurrentDictionary<long, int> _attempts = new();

    private ScriptWorkerPool(ScriptOperationSpec spec, object?[] argumentList, PipelinePump pump, ScriptBlock? callerBlock)
    {
        Spec = spec;
        // $BatchContext costs a few objects per item: made only for code that mentions it (the script block
        // or a function it was given; dynamic lookups name it too).
        _wantsContext = spec.Script.Contains("BatchContext", StringComparison.OrdinalIgnoreCase)
            || spec.Functions.Values.Any(body => body.Contains("BatchContext", StringComparison.OrdinalIgnoreCase));
        _argumentList = argumentList;
        _pump = pump;
        _callerBlock = callerBlock;
        _retry = RetryPredicates.Of(spec);
    }

    public ScriptOperationSpec Spec { get; }

    /// <summary>Opens <paramref name="workers"/> runspaces with the spec's modules, functions and $using: values.</summary>
    public static ScriptWorkerPool Open(ScriptOperationSpec spec, int workers, PipelinePump pump, IReadOnlyDictionary<string, object> preferences)
    {
        var (arguments, usings) = Decode(spec);
        var pool = new ScriptWorkerPool(spec, arguments, pump, null);
        foreach (var runspace in RunspaceCache.Rent(spec.ImportModule, workers))
        {
            // Each run sets its own $using: values, preferences and functions; they are reset when the
            // runspace goes back to the cache.
            var session = runspace.SessionStateProxy;
            foreach (var (name, value) in usings)
            {
                session.SetVariable(UsingRewriter.VariableFor(name), value);
            }

            foreach (var (name, value) in preferences)
            {
                session.SetVariable(name, value);
            }

            foreach (var (name, body) in spec.Functions)
            {
                session.InvokeProvider.Item.Set($@"function:\{name}", ScriptBlock.Create(body));
            }

            pool._runspaces.Add(runspace);
            var worker = new ScriptWorker(runspace, pool._queue, spec.Script, pump, pool._retry);
            pool._workers.Add(worker);
            worker.Start();
        }

        return pool;
    }

    /// <summary>Runs the script block in the caller's runspace, on the pipeline thread, through the pump.</summary>
    public static ScriptWorkerPool ForCallerRunspace(ScriptOperationSpec spec, PipelinePump pump)
    {
        var (arguments, usings) = Decode(spec);
        var pool = new ScriptWorkerPool(spec, arguments, pump, ScriptBlock.Create(spec.Script));
        foreach (var (name, value) in usings)
        {
            pool._callerVariables.Add(new PSVariable(UsingRewriter.VariableFor(name), value));
        }

        return pool;
    }

    /// <summary>The engine operation; <paramref name="jobId"/> names the job once it exists (for $BatchContext).</summary>
    public BatchOperation<object?, object?> ToOperation(Func<string> jobId, string? stage = null) => Spec.PerChunk
        ? BatchOperation<object?, object?>.PerChunk(async (items, ct) =>
        {
            // One output per item gives each item its output; anything else leaves outputs empty.
            var values = items.Select(i => i.Value).ToArray();
            var output = await (_wantsContext ? InvokeAsync(values, ContextOf(jobId(), stage, items), ct) : InvokeAsync(values, ct, null)).ConfigureAwait(false);
            return output switch
            {
                object?[] many when many.Length == items.Count => many,
                not object?[] when items.Count == 1 => [output],
                _ => null,
            };
        })
        : BatchOperation<object?, object?>.PerItem((item, ct) => new ValueTask<object?>(_wantsContext ? InvokeAsync(item.Value, ContextOf(jobId(), stage, [item]), ct) : InvokeAsync(item.Value, ct, null)));

    /// <summary>
    /// The pool as an undo operation (-UndoScriptBlock): per item, $_ is the item's input and $BatchOutput what
    /// its forward script block returned.
    /// </summary>
    public BatchOperation<Compensation<object?, object?>, object?> ToUndoOperation(Func<string> jobId, string? stage = null)
    {
        IsUndo = true;
        return BatchOperation<Compensation<object?, object?>, object?>.PerItem((item, ct) =>
        {
            var context = _wantsContext ? ContextOf(jobId(), stage, [new BatchItem<object?>(item.Index, item.Value.Input, item.Key)], item.Value.Output) : null;
            return new ValueTask<object?>(context is null ? InvokeAsync(item.Value.Input, ct, null, item.Value.Output) : InvokeAsync(item.Value.Input, context, ct, item.Value.Output));
        });
    }

    /// <summary>Whether the pool runs an undo script block (it then sets $BatchOutput).</summary>
    public bool IsUndo { get; private set; }

    private BatchContext ContextOf(string jobId, string? stage, IReadOnlyList<BatchItem<object?>> items, object? undoOutput = null)
    {
        var undo = IsUndo;
        var first = items[0];
        // The attempt's span, current in the engine's flow here (the script runs on a runspace's own thread).
        var span = System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } current ? current : null;
        var keys = new string[items.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = undo ? IdempotencyKey.ForUndo(jobId, items[i].Index, items[i].Key, stage) : IdempotencyKey.For(jobId, items[i].Index, items[i].Key, stage);
        }

        return new BatchContext
        {
            JobId = jobId,
            Index = first.Index,
            Key = first.Key,
            IdempotencyKey = keys[0],
            IdempotencyKeys = keys,
            Attempt = _attempts.AddOrUpdate(first.Index, 1, static (_, n) => n + 1),
            Stage = stage,
            IsUndo = undo,
            Output = undoOutput,
            TraceId = span?.TraceId.ToHexString(),
            SpanId = span?.SpanId.ToHexString(),
            TraceParent = span?.Id,
        };
    }

    private async Task<object?> InvokeAsync(object? input, BatchContext context, CancellationToken cancellationToken, object? undoOutput = null)
    {
        var output = await InvokeAsync(input, cancellationToken, context, undoOutput).ConfigureAwait(false);
        _attempts.TryRemove(context.Index, out _);
        return output;
    }

    private Task<object?> InvokeAsync(object? input, CancellationToken cancellationToken, BatchContext? context, object? undoOutput = null)
    {
        var work = new ScriptWork(input, _argumentList);
        if (context is not null)
        {
            work.Variables.Add(new PSVariable("BatchContext", context));
        }

        if (IsUndo)
        {
            work.Variables.Add(new PSVariable("BatchOutput", undoOutput));
        }

        if (_callerBlock is not null)
        {
            // A running item cannot be interrupted here (it runs on the pipeline thread), but one still
            // queued is dropped, so a stop does not wait for the pump to be drained.
            work.Variables.AddRange(_callerVariables);
            work.CancelWith(cancellationToken, static (w, token) => w.Cancel(token));
            _pump.Post(PumpMessageKind.Invoke, new Action(() => RunOnPipelineThread(work)));
            return work.Task;
        }

        work.CancelWith(cancellationToken, static (w, token) =>
        {
            w.Cancel(token);
            w.Worker?.Stop(w);
        });
        if (!ScriptWorker.TryTakeDirect(work) && !_queue.TryAdd(work))
        {
            work.Cancel(CancellationToken.None);
        }

        return work.Task;
    }

    private void RunOnPipelineThread(ScriptWork work)
    {
        if (!work.Begin(null))
        {
            return;
        }

        try
        {
            work.Complete(_callerBlock!.InvokeWithContext(null, work.Variables, work.Arguments));
        }
        catch (RuntimeException error)
        {
            work.Fail(error.ErrorRecord, _retry);
        }
    }

    private static (object?[] Arguments, Dictionary<string, object?> Usings) Decode(ScriptOperationSpec spec)
    {
        if (spec.HasSecrets)
        {
            // A stored definition reached the workers without its secret values (SecretVault.Hydrate fills them in).
            throw new InvalidOperationException($"The script block needs secret values that are never stored ({string.Join(", ", spec.SecretUsings.Select(u => "$using:" + u).Append(spec.SecretArgumentList ? "-ArgumentList" : string.Empty).Where(u => u.Length > 0))}); run the job from a session that has them, or pass them with -UsingValue.");
        }

        var arguments = spec.ArgumentList is null
            ? []
            : CliXmlCodec.Instance.Deserialize(spec.ArgumentList) switch
            {
                object?[] many => many,
                PSObject { BaseObject: System.Collections.IList list } => list.Cast<object?>().ToArray(),
                System.Collections.IList list => list.Cast<object?>().ToArray(),
                var one => [one],
            };
        var usings = spec.UsingValues.ToDictionary(p => p.Key, p => CliXmlCodec.Instance.Deserialize(p.Value), StringComparer.OrdinalIgnoreCase);
        return (arguments, usings);
    }

    public void Dispose()
    {
        _queue.Complete();
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        // A runspace whose driver has ended goes back to the cache; one still busy (an item that ignores
        // the stop) is closed instead.
        for (var i = 0; i < _runspaces.Count; i++)
        {
            if (_workers[i].Ended.Wait(TimeSpan.FromSeconds(5)))
            {
                RunspaceCache.Return(Spec.ImportModule, _runspaces[i], [.. Spec.Functions.Keys]);
            }
            else
            {
                _runspaces[i].Dispose();
            }
        }
    }
}
