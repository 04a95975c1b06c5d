using System.Management.Automation;
using BatchOps.Engine.Config;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.PowerShell.Commands;

/// <summary>The job settings every command that creates and runs a job takes (throttle, chunks, retries, policies).</summary>
public abstract class BatchSettingsCmdlet : BatchCmdlet
{
    [Parameter] [ValidateRange(1, 1024)] public int ThrottleLimit { get; set; }

    [Parameter] [ValidateRange(1, 100000)] public int ChunkSize { get; set; }

    [Parameter] [ValidateRange(0, 100)] public int RetryCount { get; set; }

    /// <summary>Base delay before the first retry: seconds (0.5) or a TimeSpan.</summary>
    [Parameter]
    [SecondsOrTimeSpan]
    public TimeSpan RetryDelay { get; set; }

    /// <summary>Longest wait between two attempts, a server's Retry-After included: seconds or a TimeSpan. The default is 60 seconds.</summary>
    [Parameter]
    [SecondsOrTimeSpan]
    public TimeSpan MaxRetryDelay { get; set; }

    /// <summary>Time one attempt may take, in seconds.</summary>
    [Parameter] public double TimeoutSeconds { get; set; }

    /// <summary>Time the whole run may take, in seconds.</summary>
    [Parameter] public double JobTimeoutSeconds { get; set; }

    /// <summary>Most operations started per second.</summary>
    [Parameter] public double RateLimit { get; set; }

    [Parameter] public SwitchParameter StopOnError { get; set; }

    [Parameter] public int MaxErrors { get; set; }

    [Parameter] public SwitchParameter PreserveOrder { get; set; }

    /// <summary>Settings passed on this command line only, for the settings-file precedence.</summary>
    internal JobSettings ExplicitSettings => BoundSettings.From(BoundValues()) with { RetryOn = RetryOnNames, NoRetryOn = NoRetryOnNames };

    /// <summary>-RetryOn error type names, on the commands that define a job.</summary>
    internal virtual string[]? RetryOnNames => null;

    /// <summary>-NoRetryOn error type names, on the commands that define a job.</summary>
    internal virtual string[]? NoRetryOnNames => null;

    /// <summary>
    /// The settings of a new job: this command line, then the settings file's section for the job and its
    /// default section, then <paramref name="defaults"/> (a front end's own defaults); validated.
    /// </summary>
    internal JobSettings ResolveSettings(string jobName, JobSettings? defaults = null)
    {
        try
        {
            var settings = SettingsFile.Load(SettingsFile.DefaultPath(StoreFolder)).Resolve(jobName, ExplicitSettings);
            settings = defaults is null ? settings : settings.Over(defaults);
            _ = settings.ToOptions();
            return settings;
        }
        catch (ArgumentOutOfRangeException error)
        {
            ThrowInvalidSetting(error);
            throw;
        }
        catch (FormatException error)
        {
            ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidData, SettingsFile.DefaultPath(StoreFolder)));
            throw;
        }
    }



    /// <summary>A property of an item (or a hashtable's entry) as text, for -KeyProperty; null when it has none.</summary>
    internal static string? PropertyText(PSObject? item, string? property) => property is null || item is null ? null
        : item.BaseObject is System.Collections.IDictionary dictionary ? dictionary[property]?.ToString()
        : item.Properties[property]?.Value?.ToString();
}
