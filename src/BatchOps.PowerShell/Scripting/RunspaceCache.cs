using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// Worker runspaces kept open between runs in this process, as ForEach-Object -Parallel keeps its own:
/// opening a runspace costs far more than running a trivial item, so a second Invoke-BatchJob starts at
/// once. Runspaces are grouped by the modules imported into them (-ImportModule). A returned runspace is
/// cleaned in the background (ResetRunspaceState, the run's functions removed), so the command that used
/// it ends at once; the next run waits for that cleaning rather than opening a new runspace. At most
/// <see cref="MaxIdlePerShape"/> stay open per group; the rest are closed.
/// </summary>
internal static class RunspaceCache
{
    public const int MaxIdlePerShape = 32;

    private static readonly ConcurrentDictionary<string, ConcurrentQueue<Task<Runspace?>>> Idle = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets <paramref name="count"/> open runspaces with <paramref name="modules"/> imported, opening what the cache lacks.</summary>
    public static Runspace[] Rent(IReadOnlyCollection<string> modules, int count)
    {
        var idle = Idle.GetOrAdd(KeyOf(modules), _ => new());
        var rented = new Runspace[count];
        var missing = new List<int>();
        for (var i = 0; i < count; i++)
        {
            Runspace? runspace = null;
            while (runspace is null && idle.TryDequeue(out var cleaning))
            {
                var candidate = cleaning.GetAwaiter().GetResult();
                if (candidate is { RunspaceStateInfo.State: RunspaceState.Opened, RunspaceAvailability: RunspaceAvailability.Available })
                {
                    runspace = candidate;
                }
                else
                {
                    candidate?.Dispose();
                }
            }

            if (runspace is null)
            {
                missing.Add(i);
            }
            else
            {
                rented[i] = runspace;
            }
        }

        if (missing.Count > 0)
        {
            var state = InitialSessionState.CreateDefault2();
            if (modules.Count > 0)
            {
                state.ImportPSModule([.. modules]);
            }

            Parallel.ForEach(missing, i =>
            {
                var runspace = RunspaceFactory.CreateRunspace(state);
                runspace.Open();
                rented[i] = runspace;
            });
        }

        return rented;
    }

    /// <summary>Takes a runspace back after a run: it is cleaned in the background, or closed when the group is full.</summary>
    public static void Return(IReadOnlyCollection<string> modules, Runspace runspace, IReadOnlyCollection<string> functions)
    {
        var idle = Idle.GetOrAdd(KeyOf(modules), _ => new());
        if (runspace.RunspaceAvailability != RunspaceAvailability.Available || idle.Count >= MaxIdlePerShape)
        {
            runspace.Dispose();
            return;
        }

        idle.Enqueue(Task.Run(() => Clean(runspace, functions)));
    }

    private static Runspace? Clean(Runspace runspace, IReadOnlyCollection<string> functions)
    {
        try
        {
            runspace.ResetRunspaceState();
            foreach (var name in functions)
            {
                runspace.SessionStateProxy.InvokeProvider.Item.Remove($@"function:\{name}", recurse: false);
            }

            return runspace;
        }
        catch (Exception error) when (error is System.Management.Automation.RuntimeException or InvalidOperationException)
        {
            runspace.Dispose();
            return null;
        }
    }

    private static string KeyOf(IReadOnlyCollection<string> modules) => string.Join('\n', modules.Order(StringComparer.OrdinalIgnoreCase));
}
