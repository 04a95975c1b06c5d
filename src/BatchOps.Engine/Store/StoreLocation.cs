namespace BatchOps.Engine.Store;

/// <summary>Where the default store and its companions (logs, settings) live.</summary>
public static class StoreLocation
{
    /// <summary>Environment variable naming the store folder; overrides the platform default.</summary>
    public const string HomeVariable = "BATCHOPS_HOME";

    /// <summary>File name of the embedded store inside the folder.</summary>
    public const string DatabaseFileName = "batchops.db";

    /// <summary>
    /// The store folder: <paramref name="explicitFolder"/> when given, else $BATCHOPS_HOME, else
    /// %LOCALAPPDATA%\BatchOps on Windows and $XDG_DATA_HOME/BatchOps or ~/.local/share/BatchOps elsewhere.
    /// </summary>
    public static string ResolveFolder(string? explicitFolder = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitFolder))
        {
            return Path.GetFullPath(explicitFolder);
        }

        var home = Environment.GetEnvironmentVariable(HomeVariable);
        if (!string.IsNullOrWhiteSpace(home))
        {
            return Path.GetFullPath(home);
        }

        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "BatchOps");
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var data = !string.IsNullOrWhiteSpace(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "BatchOps");
    }

    /// <summary>Folder of the per-job log files.</summary>
    public static string LogFolder(string storeFolder) => Path.Combine(storeFolder, "logs");
}
