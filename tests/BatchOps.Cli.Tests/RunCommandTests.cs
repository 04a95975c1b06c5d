using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests;

public class RunCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Store => Path.Combine(_folder.Path, "store");

    [Fact]
    public async Task Run_ExecSpecWithItemsFile_RunsARealProcessPerItemAndStoresOutputs()
    {
        File.WriteAllLines(Path.Combine(_folder.Path, "hosts.jsonl"), Enumerable.Range(0, 12).Select(i => JsonSerializer.Serialize(new { host = $"h{i}", meta = new { zone = $"z{i % 3}" } })));
        var spec = SpecFiles.WriteRaw(_folder.Path, """
            { "name": "greet", "tags": ["demo"], "itemsFile": "hosts.jsonl", "key": "{host}",
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "echo $0 in $1 at $ITEM_INDEX", "{host}", "{meta.zone}"], "env": { "ITEM_INDEX": "{index}" } },
              "settings": { "throttleLimit": 3, "chunkSize": 4 } }
            """);

        var run = await CliHarness.RunAsync(Store, "run", spec, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var job = JsonDocument.Parse(run.Out);
        Assert.Equal("Completed", job.RootElement.GetProperty("status").GetString());
        Assert.Equal(12, job.RootElement.GetProperty("counts").GetProperty("succeeded").GetInt32());
        var id = job.RootElement.GetProperty("id").GetString()!;

        var show = await CliHarness.RunAsync(Store, "show", "greet", "--items", "--json");
        using var shown = JsonDocument.Parse(show.Out);
        var item = shown.RootElement.GetProperty("items")[7];
        Assert.Equal("h7", item.GetProperty("key").GetString());
        Assert.Equal("h7 in z1 at 7", item.GetProperty("output").GetString());

        var list = await CliHarness.RunAsync(Store, "list", "--tag", "demo");
        Assert.Contains(id, list.Out, StringComparison.Ordinal);
        Assert.Contains("Completed", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Exec_GetsTheJobIdIndexAndIdempotencyKey_AsVariablesAndPlaceholders()
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, """
            { "name": "keys", "items": [{ "host": "web/1" }, { "host": "db" }], "key": "{host}",
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "echo \"$BATCHOPS_IDEMPOTENCY_KEY|$0|$BATCHOPS_JOB_ID|$BATCHOPS_ITEM_INDEX|$BATCHOPS_ITEM_KEY\"", "{idempotencyKey} {jobId}"] } }
            """);

        var run = await CliHarness.RunAsync(Store, "run", spec, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var job = JsonDocument.Parse(run.Out);
        var id = job.RootElement.GetProperty("id").GetString()!;
        var show = await CliHarness.RunAsync(Store, "show", "keys", "--items", "--json");
        using var shown = JsonDocument.Parse(show.Out);
        var outputs = shown.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("output").GetString()).ToList();
        Assert.Equal([$"{id}:key:web%2F1|{id}:key:web%2F1 {id}|{id}|0|web/1", $"{id}:key:db|{id}:key:db {id}|{id}|1|db"], outputs);
    }

    [Fact]
    public async Task Run_ItemsFile_TheJobReadsItsItemsFromTheFile_AndSaysSoWhenItIsGone()
    {
        var items = Path.Combine(_folder.Path, "names.jsonl");
        File.WriteAllLines(items, ["{\"name\": \"ada\"}", "", "{\"name\": \"grace\"}"]);
        var spec = SpecFiles.WriteRaw(_folder.Path, """
            { "name": "names", "itemsFile": "names.jsonl", "operation": { "kind": "exec", "command": "echo", "args": ["{name}"] } }
            """);
        Assert.Equal(0, (await CliHarness.RunAsync(Store, "run", spec)).ExitCode);

        var show = await CliHarness.RunAsync(Store, "show", "names", "--items", "--json");
        using (var shown = JsonDocument.Parse(show.Out))
        {
            var second = shown.RootElement.GetProperty("items")[1];
            Assert.Equal("{\"name\": \"grace\"}", second.GetProperty("input").GetString());
            Assert.Equal("grace", second.GetProperty("output").GetString());
        }

        File.Move(items, items + ".moved");
        var gone = await CliHarness.RunAsync(Store, "show", "names", "--items");
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains($"The items file '{items}' is gone", gone.Error, StringComparison.Ordinal);
        Assert.Contains("put the file back", gone.Error, StringComparison.Ordinal);

        File.Move(items + ".moved", items);
        Assert.Equal(0, (await CliHarness.RunAsync(Store, "show", "names", "--items")).ExitCode);
    }

    [Fact]
    public async Task Run_FailingItems_ExitOneThenRetryRunsOnlyThemAndExitsZero()
    {
        var flag = Path.Combine(_folder.Path, "fixed");
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "flaky",
            items = Enumerable.Range(0, 10).Select(i => new { n = i }).ToArray(),
            operation = new { kind = "exec", command = "sh", args = new[] { "-c", $"test $0 -ne 4 || test -e '{flag}' || (echo 'item four is broken' >&2; exit 9)", "{n}" } },
        });

        var first = await CliHarness.RunAsync(Store, "run", spec);
        Assert.True(first.ExitCode == 1, first.ToString());
        Assert.Contains("FAILED item 4 after 1 attempt(s): 'sh' exited with code 9: item four is broken", first.Error, StringComparison.Ordinal);
        Assert.Contains("batchops retry", first.Out, StringComparison.Ordinal);

        File.WriteAllText(flag, "");
        var retry = await CliHarness.RunAsync(Store, "retry", "flaky");

        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains("this run: 1 succeeded, 0 failed", retry.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingCommand_FailsItemsWithoutRetryAndNamesTheCommand()
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "typo", "items": [1, 2], "operation": { "kind": "exec", "command": "definitely-not-a-command-xyz" }, "settings": { "retryCount": 3, "retryDelayMs": 1 } }""");

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Cannot start 'definitely-not-a-command-xyz'", result.Error, StringComparison.Ordinal);
        Assert.Contains("after 1 attempt(s)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SettingsFile_AppliesBelowTheSpecsOwnSettings()
    {
        Directory.CreateDirectory(Store);
        File.WriteAllText(Path.Combine(Store, "settings.json"), """{ "default": { "chunkSize": 7, "retryCount": 2 }, "layered": { "throttleLimit": 3, "retryCount": 1 } }""");
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "layered", "items": [1], "operation": { "kind": "exec", "command": "true" }, "settings": { "throttleLimit": 2 } }""");

        await CliHarness.RunAsync(Store, "run", spec);
        var show = await CliHarness.RunAsync(Store, "show", "layered", "--json");

        using var job = JsonDocument.Parse(show.Out);
        var settings = job.RootElement.GetProperty("job").GetProperty("settings");
        Assert.Equal((2, 7, 1), (settings.GetProperty("throttleLimit").GetInt32(), settings.GetProperty("chunkSize").GetInt32(), settings.GetProperty("retryCount").GetInt32()));
    }

    [Fact]
    public async Task ExportStatsAndRemove_WorkOnAStoredJob()
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "exp", "tags": ["t1"], "items": [{"v": "a,b"}, {"v": 2}], "operation": { "kind": "exec", "command": "echo", "args": ["{v}"] } }""");
        await CliHarness.RunAsync(Store, "run", spec);
        var file = Path.Combine(_folder.Path, "out.json");

        var export = await CliHarness.RunAsync(Store, "export", "exp", "--format", "json", "--output", file);
        var csv = await CliHarness.RunAsync(Store, "export", "exp", "--format", "csv");
        var stats = await CliHarness.RunAsync(Store, "stats", "--json");

        Assert.Equal(0, export.ExitCode);
        using var exported = JsonDocument.Parse(File.ReadAllText(file));
        Assert.Equal("a,b", exported.RootElement.GetProperty("items")[0].GetProperty("output").GetString());
        Assert.Contains("\"a,b\"", csv.Out, StringComparison.Ordinal);
        using var statistics = JsonDocument.Parse(stats.Out);
        Assert.Equal(1, statistics.RootElement.GetProperty("byTag").GetProperty("t1").GetInt32());
        Assert.Equal(2, statistics.RootElement.GetProperty("items").GetProperty("succeeded").GetInt32());

        var remove = await CliHarness.RunAsync(Store, "remove", "exp");
        Assert.Equal(0, remove.ExitCode);
        Assert.Equal(2, (await CliHarness.RunAsync(Store, "show", "exp")).ExitCode);
    }
}
