using System.Diagnostics;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using SMA = System.Management.Automation;

namespace BatchOps.PowerShell.HostTests.Support;

/// <summary>
/// A real PowerShell session in this process with the packaged module imported and its own job store
/// (every BatchOps cmdlet's -Store defaults to it through $PSDefaultParameterValues, as a user would set
/// it). Every script runs with a time limit, so a run that never returns fails its test instead of hanging.
/// </summary>
public sealed class PsSession : IDisposable
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(60);

    private readonly bool _ownsStore;

    public PsSession(string? store = null, bool import = true, PSHost? host = null)
    {
        Module = ModuleFixture.Instance;
        _ownsStore = store is null;
        Store = store ?? Directory.CreateTempSubdirectory("batchops-host-").FullName;
        Runspace = host is null
            ? RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2())
            : RunspaceFactory.CreateRunspace(host, InitialSessionState.CreateDefault2());
        Runspace.Open();
        Runspace.SessionStateProxy.SetVariable("Store", Store);
        Runspace.SessionStateProxy.SetVariable("ModulePath", Module.ModuleFolder);
        Run("$PSDefaultParameterValues['*-Batch*:Store'] = $Store").ThrowIfFailed();
        if (import)
        {
            Run("Import-Module $ModulePath").ThrowIfFailed();
        }
    }

    public ModuleFixture Module { get; }

    public Runspace Runspace { get; }

    /// <summary>The job store folder of this session.</summary>
    public string Store { get; }

    /// <summary>Runs a script and waits for it, at most <paramref name="limit"/>.</summary>
    public PsRun Run(string script, IEnumerable<object?>? input = null, TimeSpan? limit = null, Action<SMA.PowerShell>? configure = null)
    {
        using var running = Start(script, input, configure);
        return running.Wait(limit ?? DefaultLimit);
    }

    /// <summary>Starts a script without waiting (to stop it mid-run, as Ctrl+C does).</summary>
    public RunningScript Start(string script, IEnumerable<object?>? input = null, Action<SMA.PowerShell>? configure = null)
    {
        var shell = SMA.PowerShell.Create();
        shell.Runspace = Runspace;
        shell.AddScript(script);
        configure?.Invoke(shell);
        return new RunningScript(shell, script, input);
    }

    /// <summary>Runs the batchops command (a real child process) on this session's store.</summary>
    public string Batchops(params string[] args)
    {
        using var process = StartBatchops(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"batchops {string.Join(' ', args)} did not finish within 60 s.");
        }

        return output.Result + error.Result;
    }

    /// <summary>Starts the batchops command (a real child process) on this session's store; the caller waits for it or kills it.</summary>
    public Process StartBatchops(params string[] args)
    {
        var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var cli = Path.Combine(Module.Root, "src", "BatchOps.Cli", "bin", config, "net10.0", "batchops.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", cli, .. args, "--store", Store])
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    public void Dispose()
    {
        Runspace.Dispose();
        if (_ownsStore)
        {
            try
            {
                Directory.Delete(Store, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>A script running in a <see cref="PsSession"/>; collects every stream.</summary>
public sealed class RunningScript : IDisposable
{
    private readonly SMA.PowerShell _shell;
    private readonly string _script;
    private readonly PSDataCollection<PSObject> _output = [];
    private readonly IAsyncResult _invocation;

    internal RunningScript(SMA.PowerShell shell, string script, IEnumerable<object?>? input)
    {
        _shell = shell;
        _script = script;
        var inputs = new PSDataCollection<object?>();
        foreach (var item in input ?? [])
        {
            inputs.Add(item);
        }

        inputs.Complete();
        _invocation = shell.BeginInvoke(inputs, _output);
    }

    /// <summary>Output objects so far (live).</summary>
    public PSDataCollection<PSObject> Output => _output;

    public PSDataStreams Streams => _shell.Streams;

    public PSInvocationState State => _shell.InvocationStateInfo.State;

    /// <summary>Waits for the script; fails (after stopping it) if it does not end within <paramref name="limit"/>.</summary>
    public PsRun Wait(TimeSpan limit)
    {
        if (!_invocation.AsyncWaitHandle.WaitOne(limit))
        {
            var stop = _shell.BeginStop(null, null);
            var stopped = stop.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(15));
            throw new TimeoutException($"The script did not return within {limit.TotalSeconds:F0} s{(stopped ? "" : " and did not stop either")}:{Environment.NewLine}{_script}");
        }

        Exception? terminating = null;
        try
        {
            _shell.EndInvoke(_invocation);
        }
        catch (Exception error) when (error is RuntimeException or PipelineStoppedException)
        {
            terminating = error;
        }

        return new PsRun(
            [.. _output],
            [.. _shell.Streams.Error],
            [.. _shell.Streams.Progress],
            [.. _shell.Streams.Warning.Select(w => w.Message)],
            [.. _shell.Streams.Verbose.Select(v => v.Message)],
            [.. _shell.Streams.Debug.Select(d => d.Message)],
            [.. _shell.Streams.Information],
            terminating,
            _shell.InvocationStateInfo.State);
    }

    /// <summary>What Ctrl+C does: stops the pipeline from another thread; returns how long the stop took.</summary>
    public TimeSpan Stop(TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stop = _shell.BeginStop(null, null);
        if (!stop.AsyncWaitHandle.WaitOne(limit))
        {
            throw new TimeoutException($"PowerShell.Stop() did not return within {limit.TotalSeconds:F0} s:{Environment.NewLine}{_script}");
        }

        _shell.EndStop(stop);
        return clock.Elapsed;
    }

    /// <summary>Waits until <paramref name="condition"/> holds (polling), at most <paramref name="limit"/>.</summary>
    public void WaitUntil(Func<RunningScript, bool> condition, TimeSpan limit, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition(this))
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Waited {limit.TotalSeconds:F0} s for {what}; state {State}, {_output.Count} output object(s).");
            }

            Thread.Sleep(20);
        }
    }

    public void Dispose() => _shell.Dispose();
}

/// <summary>Everything one script wrote.</summary>
public sealed record PsRun(
    Collection<PSObject> Output,
    IReadOnlyList<ErrorRecord> Errors,
    IReadOnlyList<ProgressRecord> Progress,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Verbose,
    IReadOnlyList<string> Debug,
    IReadOnlyList<InformationRecord> Information,
    Exception? Terminating,
    PSInvocationState State)
{
    /// <summary>The base objects of the output.</summary>
    public IEnumerable<object> Objects => Output.Select(o => o.BaseObject);

    /// <summary>Throws with every error when the script wrote errors or ended with one.</summary>
    public PsRun ThrowIfFailed()
    {
        if (Terminating is not null || Errors.Count > 0)
        {
            throw new InvalidOperationException(
                "The script failed:" + Environment.NewLine +
                string.Join(Environment.NewLine, Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}").Append(Terminating?.ToString() ?? string.Empty)));
        }

        return this;
    }

    /// <summary>The FullyQualifiedErrorId of the terminating error, if any.</summary>
    public string? TerminatingErrorId => (Terminating as IContainsErrorRecord)?.ErrorRecord.FullyQualifiedErrorId;
}
