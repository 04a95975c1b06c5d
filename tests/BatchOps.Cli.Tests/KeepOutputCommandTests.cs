using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests;

/// <summary>"keepOutput" in a spec, as batchops runs it: outputs still printed as items run, not stored, and every reader says so.</summary>
public sealed class KeepOutputCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string Store => Path.Combine(_folder.Path, "store");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task KeepOutputNone_StoresNoOutputs_AndShowExportAndRetrySaySo()
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, """
            { "name": "quiet", "items": [{ "n": 1 }, { "n": 2 }, { "n": 3 }, { "n": 4 }, { "n": 5 }], "keepOutput": "none",
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "[ $0 = 4 ] && exit 3; echo done $0", "{n}"] },
              "settings": { "chunkSize": 2 } }
            """);

        var run = await CliHarness.RunAsync(Store, "run", spec, "--json");
        var show = await CliHarness.RunAsync(Store, "show", "quiet");
        var items = await CliHarness.RunAsync(Store, "show", "quiet", "--items", "--json");
        var export = await CliHarness.RunAsync(Store, "export", "quiet", "--format", "json");
        var retry = await CliHarness.RunAsync(Store, "retry", "quiet");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("Outputs      outputs were not kept (KeepOutput None)", show.Out, StringComparison.Ordinal);
        Assert.Contains("keepOutput=None", show.Out, StringComparison.Ordinal);
        using (var shown = JsonDocument.Parse(items.Out))
        {
            var stored = shown.RootElement.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(5, stored.Count);
            Assert.All(stored, i => Assert.True(!i.TryGetProperty("output", out var o) || o.ValueKind == JsonValueKind.Null, i.ToString()));
        }

        using (var exported = JsonDocument.Parse(export.Out))
        {
            Assert.Equal("outputs were not kept (KeepOutput None)", exported.RootElement.GetProperty("outputsNotKept").GetString());
        }

        Assert.Contains("job 'quiet' (", export.Error, StringComparison.Ordinal);
        Assert.Contains("outputs were not kept (KeepOutput None); the output column is empty for those items.", export.Error, StringComparison.Ordinal);
        Assert.Equal(1, retry.ExitCode);
        var after = await CliHarness.RunAsync(Store, "show", "quiet", "--items", "--json");
        using var again = JsonDocument.Parse(after.Out);
        Assert.All(again.RootElement.GetProperty("items").EnumerateArray(), i => Assert.True(!i.TryGetProperty("output", out var o) || o.ValueKind == JsonValueKind.Null));
    }

    [Theory]
    [InlineData("\"keepOutput\": \"none\",", "\"keepOutput\": \"none\" drops the outputs the \"undo\" operation reads")]
    [InlineData("\"keepOutput\": \"sometimes\",", "keepOutput")]
    public async Task KeepOutput_ThatCannotHold_IsRefusedBeforeAnythingIsCreated(string keep, string expected)
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, $$"""
            { "name": "refused", "items": [{ "n": 1 }], {{keep}}
              "operation": { "kind": "exec", "command": "echo", "args": ["{n}"] },
              "undo": { "kind": "exec", "command": "echo", "args": ["{output}"] } }
            """);

        var run = await CliHarness.RunAsync(Store, "run", spec);
        var list = await CliHarness.RunAsync(Store, "list");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("refused", list.Out, StringComparison.Ordinal);
    }
}
