using BatchOps.Operations;
using System.Globalization;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;

namespace BatchOps.Cli.Output;

/// <summary>
/// Shows a run on stderr: a live bar redrawn in place on a terminal, a plain line every few seconds
/// otherwise, and the first failures as they happen.
/// </summary>
public sealed class ProgressRenderer(TextWriter error, bool terminal, string jobName) : BatchObserver<JsonElement, string?>
{
    private const int FailuresShown = 20;
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);
    private readonly object _lock = new();
    private int _failuresShown;
    private TimeSpan? _lastPlain;
    private bool _barDrawn;

    public override void OnItemCompleted(ItemResult<JsonElement, string?> result)
    {
        if (result.Status != ItemStatus.Failed || result.Error is null)
        {
            return;
        }

        lock (_lock)
        {
            var shown = ++_failuresShown;
            if (shown > FailuresShown + 1)
            {
                return;
            }

            ClearBar();
            error.WriteLine(shown <= FailuresShown
                ? $"FAILED item {result.Index}{(result.Key is null ? string.Empty : $" ({TerminalText.Escape(result.Key)})")} after {result.Attempts} attempt(s): {TerminalText.Escape(result.Error.Message)}"
                : "... further failures are in the job's log and in 'batchops show JOB --items --status Failed'.");
        }
    }

    public override void OnRetry(RetryNotice notice)
    {
    }

    public override void OnProgress(ProgressSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_lock)
        {
            if (terminal)
            {
                error.Write('\r' + Bar(snapshot) + (snapshot.IsFinal ? Environment.NewLine : string.Empty));
                _barDrawn = !snapshot.IsFinal;
            }
            else if (snapshot.IsFinal || _lastPlain is null || snapshot.Elapsed - _lastPlain >= PlainInterval)
            {
                _lastPlain = snapshot.Elapsed;
                error.WriteLine($"{jobName}: {Line(snapshot)}");
            }

            error.Flush();
        }
    }

    /// <summary>One plain progress line: counts, percent, rate and ETA.</summary>
    public static string Line(ProgressSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var total = s.Total is { } t ? t.ToString(CultureInfo.InvariantCulture) : "?";
        var percent = s.Percent is { } p ? $"{p,5:F1}% " : string.Empty;
        var eta = s.EstimatedRemaining is { } e ? $" ETA {e:hh\\:mm\\:ss}" : string.Empty;
        return string.Create(CultureInfo.InvariantCulture,
            $"{percent}{s.Completed}/{total} done, {s.Succeeded} ok, {s.Failed} failed, {s.Skipped + s.Cancelled} not run, {s.Running} running, {s.ItemsPerSecond:F1}/s{eta}");
    }

    private static string Bar(ProgressSnapshot s)
    {
        const int width = 24;
        var filled = s.Percent is { } p ? (int)Math.Round(p / 100 * width) : 0;
        return $"[{new string('#', filled)}{new string('.', width - filled)}] {Line(s)}".PadRight(110);
    }

    private void ClearBar()
    {
        if (_barDrawn)
        {
            error.Write('\r' + new string(' ', 110) + '\r');
            _barDrawn = false;
        }
    }
}
