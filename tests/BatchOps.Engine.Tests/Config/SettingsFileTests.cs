using BatchOps.Engine.Config;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Config;

public class SettingsFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private SettingsFile Load(string json)
    {
        var path = _folder.File("settings.json");
        File.WriteAllText(path, json);
        return SettingsFile.Load(path);
    }

    [Fact]
    public void Resolve_AppliesExplicitThenJobSectionThenDefaultThenBuiltIn()
    {
        var file = Load("""
            { // comments are allowed
              "default": { "throttleLimit": 8, "retryCount": 2, "chunkSize": 50 },
              "nightly": { "throttleLimit": 32, "stopOnError": true }
            }
            """);

        var resolved = file.Resolve("NIGHTLY", new JobSettings { RetryCount = 5 });
        var options = resolved.ToOptions();

        Assert.Equal(32, options.ThrottleLimit);
        Assert.Equal(5, options.RetryCount);
        Assert.Equal(50, options.ChunkSize);
        Assert.True(options.StopOnError);
        Assert.Null(options.RateLimit);
        Assert.Equal(8, file.Resolve("other").ToOptions().ThrottleLimit);
    }

    [Fact]
    public void Load_MissingFile_MeansBuiltInDefaults()
    {
        var file = SettingsFile.Load(_folder.File("absent.json"));

        Assert.Equal(5, file.Resolve("x").ToOptions().ThrottleLimit);
    }

    [Theory]
    [InlineData("""{ "default": { "throttle": 3 } }""", "section \"default\": unknown setting \"throttle\". Valid settings: chunkSize")]
    [InlineData("""{ "nightly": { "throttleLimit": 0 } }""", "section \"nightly\": setting \"throttleLimit\" is out of range: use 1 to 1024.")]
    [InlineData("""{ "default": { "timeoutSeconds": -1 } }""", "setting \"timeoutSeconds\" is out of range")]
    [InlineData("""{ "default": { "chunkSize": "ten" } }""", "section \"default\": The JSON value could not be converted")]
    [InlineData("""[1, 2]""", "must hold a JSON object")]
    [InlineData("""{ "default": """, "is not valid JSON")]
    public void Load_BadFile_NamesFileSectionAndSetting(string json, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Load(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("settings.json", error.Message, StringComparison.Ordinal);
    }
}
