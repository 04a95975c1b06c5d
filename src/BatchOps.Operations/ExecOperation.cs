using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Store;

namespace BatchOps.Operations;

/// <summary>
/// Runs a process per item, without a shell. Exit code 0 is success with stdout as the output; any other
/// exit code fails the item (retryable) with the tail of stderr as the error detail. A timeout or forced
/// stop kills the whole process tree.
/// </summary>
public sealed partial class ExecOperation : CompiledOperation
{
    private const int StderrTail = 4000;
    private readonly OperationSpec _spec;
    private readonly Template _command;
    private readonly Template[] _args;
    private readonly (string Name, Template Value)[] _env;

    private ExecOperation(OperationSpec spec, string where)
    {
        _spec = spec;
        _command = Template.Parse(spec.Command!, $"{where}.command");
        _args = (spec.Args ?? []).Select((a, i) => Template.Parse(a, $"{where}.args[{i}]")).ToArray();
        _env = (spec.Env ?? []).Select(e => (e.Key, Template.Parse(e.Value, $"{where}.env.{e.Key}"))).ToArray();
    }

    public override string Kind => OperationSpec.Exec;

    public override string Definition => JsonSerializer.Serialize(_spec, StoreJson.Options);

    public override IReadOnlyList<string> Warnings => _spec.AllowShellPlaceholders == true ? [] : ShellWarnings(_command, _args);

    internal static ExecOperation Compile(OperationSpec spec, string baseFolder, string where)
    {
        Reject(spec.Method, "method", where);
        Reject(spec.Url, "url", where);
        Reject(spec.Headers, "headers", where);
        Reject(spec.Body, "body", where);
        if (string.IsNullOrWhiteSpace(spec.Command))
        {
            throw new JobSpecException($"{where}: \"command\" is required for kind \"exec\" (the program to run for each item).");
        }

        var normalized = new OperationSpec
        {
            Kind = OperationSpec.Exec,
            Command = spec.Command,
            Args = spec.Args,
            Env = spec.Env,
            AllowShellPlaceholders = spec.AllowShellPlaceholders,
            WorkingDirectory = spec.WorkingDirectory is null ? null : Path.GetFullPath(Path.Combine(baseFolder, spec.WorkingDirectory)),
        };
        if (normalized.WorkingDirectory is { } cwd && !Directory.Exists(cwd))
        {
            throw new JobSpecException($"{where}: \"workingDirectory\" '{cwd}' does not exist.");
        }

        return new ExecOperation(normalized, where);
    }

    public override void Validate(JsonElement item, long index)
    {
        _command.Validate(item, index, IsUndo);
        foreach (var arg in _args)
        {
            arg.Validate(item, index, IsUndo);
        }

        foreach (var (_, value) in _env)
        {
            value.Validate(item, index, IsUndo);
        }
    }

    /// <summary>The command line (arguments quoted as a POSIX shell would need them), the working directory and the environment it adds.</summary>
    public override IReadOnlyList<string>? Render(JsonElement item, in ItemContext context)
    {
        var at = context;
        var lines = new List<string> { string.Join(' ', _args.Select(a => a.Render(item, at)).Prepend(_command.Render(item, at)).Select(ShellQuote)) };
        if (_spec.WorkingDirectory is { } cwd)
        {
            lines.Add($"in {cwd}");
        }

        lines.AddRange(_env.Select(e => $"env {e.Name}={(Engine.Jobs.SecretNames.IsSecret(e.Name) ? Secrets.Mask : e.Value.Render(item, at))}"));
        return lines;
    }

    private static string ShellQuote(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@%+,".Contains(c)) ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    protected override async Task<string?> RunItemAsync(JsonElement item, ItemContext context, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(_command.Render(item, context))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = _spec.WorkingDirectory ?? string.Empty,
        };
        foreach (var arg in _args)
        {
            start.ArgumentList.Add(arg.Render(item, context));
        }

        // What the command may need to apply each item once: it gets the same values on every attempt.
        start.Environment["BATCHOPS_JOB_ID"] = context.JobId;
        start.Environment["BATCHOPS_ITEM_INDEX"] = context.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["BATCHOPS_ITEM_KEY"] = context.Key;
        start.Environment["BATCHOPS_IDEMPOTENCY_KEY"] = context.IdempotencyKey;
        start.Environment["BATCHOPS_STAGE"] = context.Stage;
        foreach (var (name, value) in _env)
        {
            start.Environment[name] = value.Render(item, context);
        }

        // The item attempt's span, through the OpenTelemetry environment carrier (only while something traces).
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } span)
        {
            start.Environment["TRACEPARENT"] = span.Id;
            if (span.TraceStateString is { } state)
            {
                start.Environment["TRACESTATE"] = state;
            }
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception error)
        {
            throw new BatchOperationException($"Cannot start '{start.FileName}': {error.Message}. Check the command name and PATH.", isRetryable: false, innerException: error);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            throw;
        }

        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            var tail = errors.Length > StderrTail ? errors[^StderrTail..] : errors;
            var firstLine = tail.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            throw new BatchOperationException(
                $"'{start.FileName}' exited with code {process.ExitCode}{(firstLine is null ? "." : $": {firstLine}")}",
                isRetryable: true,
                detail: tail.Length == 0 ? null : tail);
        }

        return output.TrimEnd('\r', '\n');
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        catch (Win32Exception)
        {
        }
    }

    private static void Reject(object? value, string field, string where)
    {
        if (value is not null)
        {
            throw new JobSpecException($"{where}: \"{field}\" belongs to kind \"http\", not \"exec\"; remove it or change the kind.");
        }
    }
}
