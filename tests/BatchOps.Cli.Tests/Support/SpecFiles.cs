using System.Text.Json;

namespace BatchOps.Cli.Tests.Support;

/// <summary>Writes job spec files for tests.</summary>
public static class SpecFiles
{
    public static string Write(string folder, object spec, string name = "job.json")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, JsonSerializer.Serialize(spec));
        return path;
    }

    public static string WriteRaw(string folder, string json, string name = "job.json")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>An exec spec whose items append their index to <paramref name="record"/>, optionally sleeping first.</summary>
    public static object Appending(string name, int count, string record, double sleepSeconds = 0, int throttle = 4, int chunk = 5) => new
    {
        name,
        items = Enumerable.Range(0, count).Select(i => new { n = i }).ToArray(),
        operation = new
        {
            kind = "exec",
            command = "sh",
            args = new[] { "-c", $"sleep {sleepSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}; echo $0 >> '{record}'", "{n}" },
        },
        settings = new { throttleLimit = throttle, chunkSize = chunk },
    };
}
