using System.Diagnostics;
using System.Text;

namespace BatchOps.Cli.Tests.Support;

/// <summary>Runs batchops in this process (fast) or as a real child process (signals, crashes, concurrency).</summary>
public static class CliHarness
{
    static CliHarness()
    {
        // The loopback HTTP server, the readers of the child processes' output and the tests share this
        // process's thread pool, whose minimum on a two-core machine is two threads; a thread added past it
        // can take half a second to come. A 200/s rate test across three worker processes read 187/s with
        // one 632 ms gap in which the server took no request. Threads up front remove that wait.
        ThreadPool.GetMinThreads(out var workers, out var ports);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), ports);
    }

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
    }

    public static async Task<Result> RunAsync(string store, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await BatchOpsCli.RunAsync([.. args, "--store", store], output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>Starts batchops as a child process with the store in <paramref name="store"/>.</summary>
    public static Process Start(string store, params string[] args) => StartWith(store, null, args);

    /// <summary>Starts batchops as a child process with extra environment variables (BATCHOPS_HOME for its logs, say).</summary>
    public static Process StartWith(string store, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "batchops.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add("--store");
        start.ArgumentList.Add(store);
        start.Environment.Remove("BATCHOPS_CONFIG");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>Runs a child process to its end and returns its exit code and output.</summary>
    public static async Task<Result> RunProcessAsync(string store, TimeSpan limit, params string[] args)
    {
        using var process = Start(store, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"batchops {string.Join(' ', args)} did not finish within {limit}.");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    public static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
    }

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    public static string Lines(params string[] lines) => new StringBuilder().AppendJoin('\n', lines).Append('\n').ToString();
}
