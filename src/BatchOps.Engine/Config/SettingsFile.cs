using System.Text.Json;
using System.Text.Json.Serialization;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Config;

/// <summary>
/// The settings file: JSON with a <c>default</c> section and one section per job name, each holding
/// job settings (chunkSize, throttleLimit, …). Precedence when a job is built: explicit value &gt; the job
/// name's section &gt; the default section &gt; the built-in default.
/// </summary>
/// <example><code>
/// { "default": { "throttleLimit": 8, "retryCount": 2 },
///   "nightly-patch": { "throttleLimit": 32, "stopOnError": true } }
/// </code></example>
public sealed class SettingsFile
{
    /// <summary>Environment variable naming the settings file; overrides settings.json in the store folder.</summary>
    public const string ConfigVariable = "BATCHOPS_CONFIG";

    /// <summary>Name of the default section.</summary>
    public const string DefaultSection = "default";

    private static readonly JsonSerializerOptions StrictOptions = new(StoreJson.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private readonly Dictionary<string, JobSettings> _sections;

    private SettingsFile(string? path, Dictionary<string, JobSettings> sections, Retention? retention = null)
    {
        Path = path;
        _sections = sections;
        Retention = retention ?? Retention.None;
    }

    /// <summary>Name of the section that says how long ended jobs stay (not a job's settings).</summary>
    public const string RetentionSection = "retention";

    /// <summary>How long ended jobs stay, per status (the "retention" section); <see cref="Retention.None"/> without one.</summary>
    public Retention Retention { get; }

    /// <summary>The file read, or null when there is none.</summary>
    public string? Path { get; }

    /// <summary>An empty settings file: built-in defaults only.</summary>
    public static SettingsFile Empty { get; } = new(null, new Dictionary<string, JobSettings>(StringComparer.OrdinalIgnoreCase));

    /// <summary>$BATCHOPS_CONFIG when set, else settings.json in the store folder.</summary>
    public static string DefaultPath(string storeFolder)
    {
        var configured = Environment.GetEnvironmentVariable(ConfigVariable);
        return string.IsNullOrWhiteSpace(configured) ? System.IO.Path.Combine(storeFolder, "settings.json") : System.IO.Path.GetFullPath(configured);
    }

    /// <summary>Reads a settings file; a missing file means built-in defaults. Throws <see cref="FormatException"/> naming the file, section and setting that are wrong.</summary>
    public static SettingsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            return Empty;
        }

        var sections = new Dictionary<string, JobSettings>(StringComparer.OrdinalIgnoreCase);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"Settings file '{path}' must hold a JSON object with a \"default\" section and one section per job name.");
            }

            Retention? retention = null;
            foreach (var section in document.RootElement.EnumerateObject())
            {
                if (string.Equals(section.Name, RetentionSection, StringComparison.OrdinalIgnoreCase))
                {
                    try
                    {
                        retention = Retention.Parse(section.Value);
                    }
                    catch (FormatException error)
                    {
                        throw new FormatException($"Settings file '{path}': {error.Message}", error);
                    }

                    continue;
                }

                try
                {
                    var settings = section.Value.Deserialize<JobSettings>(StrictOptions)
                        ?? throw new FormatException("the section is null");
                    _ = settings.ToOptions();
                    sections[section.Name] = settings;
                }
                catch (Exception error) when (error is JsonException or ArgumentOutOfRangeException or FormatException)
                {
                    throw new FormatException($"Settings file '{path}', section \"{section.Name}\": {SettingNames.Explain(error)}", error);
                }
            }

            return new SettingsFile(path, sections, retention);
        }
        catch (JsonException error)
        {
            throw new FormatException($"Settings file '{path}' is not valid JSON: {error.Message}", error);
        }
    }

    /// <summary>Applies the precedence: <paramref name="explicitSettings"/> &gt; job-name section &gt; default section.</summary>
    public JobSettings Resolve(string jobName, JobSettings? explicitSettings = null)
    {
        var named = _sections.GetValueOrDefault(jobName);
        var fallback = _sections.GetValueOrDefault(DefaultSection);
        return (explicitSettings ?? new JobSettings()).Over(named).Over(fallback);
    }
}
