using System.Text;
using System.Text.Json;
using BatchOps.Engine.Export;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Export;

public class JobExporterTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private async Task<(IJobStore Store, JobRecord Job)> CreateJobAsync()
    {
        var store = SqliteJobStore.Open(_folder.Path);
        var job = new JobRecord { Id = JobRecord.NewId(), Name = "export", OperationKind = "exec", Operation = "{}" };
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, [
            new StoredItem { Index = 0, Key = "a,b", Input = """{"host":"web01"}""" },
            new StoredItem { Index = 1, Input = """["x"]""" },
        ]);
        await store.CheckpointAsync(job.Id, [
            new ItemOutcome(0, ItemStatus.Succeeded, 1, "line1\nline \"2\"", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(3)),
            new ItemOutcome(1, ItemStatus.Failed, 2, null, new ItemError("System.IO.IOException", "=cmd|' /C calc'!A0", null, true), null, DateTimeOffset.UnixEpoch, TimeSpan.Zero),
        ]);
        return (store, (await store.GetJobAsync(job.Id))!);
    }

    [Fact]
    public async Task WriteJsonAsync_EmbedsJobAndItemsWithJsonInputs()
    {
        var (store, job) = await CreateJobAsync();
        using var _ = store;
        using var buffer = new MemoryStream();

        await JobExporter.WriteJsonAsync(store, job, buffer);

        using var document = JsonDocument.Parse(buffer.ToArray());
        var root = document.RootElement;
        Assert.Equal("export", root.GetProperty("job").GetProperty("name").GetString());
        Assert.Equal("Pending", root.GetProperty("job").GetProperty("status").GetString());
        Assert.Equal(1, root.GetProperty("job").GetProperty("counts").GetProperty("failed").GetInt32());
        var items = root.GetProperty("items");
        Assert.Equal(2, items.GetArrayLength());
        Assert.Equal("web01", items[0].GetProperty("input").GetProperty("host").GetString());
        Assert.Equal("line1\nline \"2\"", items[0].GetProperty("output").GetString());
        Assert.Equal("Failed", items[1].GetProperty("status").GetString());
        Assert.True(items[1].GetProperty("error").GetProperty("isRetryable").GetBoolean());
    }

    [Fact]
    public async Task WriteCsvAsync_QuotesCellsAndDefusesFormulas()
    {
        var (store, job) = await CreateJobAsync();
        using var _ = store;
        var text = new StringWriter();

        await JobExporter.WriteCsvAsync(store, job, text);

        var csv = text.ToString();
        Assert.StartsWith(string.Join(',', JobExporter.CsvColumns) + Environment.NewLine, csv, StringComparison.Ordinal);
        Assert.Contains("0,\"a,b\",Succeeded,1,3,", csv, StringComparison.Ordinal);
        Assert.Contains("\"line1\nline \"\"2\"\"\"", csv, StringComparison.Ordinal);
        Assert.Contains(",System.IO.IOException,'=cmd|' /C calc'!A0,", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_PowerShellJob_ShowsPlainCliXmlValuesAndKeepsOtherPayloads()
    {
        using var store = SqliteJobStore.Open(_folder.Path);
        var job = new JobRecord { Id = JobRecord.NewId(), Name = "ps", OperationKind = "scriptblock", Operation = "{}", InputFormat = "clixml", OutputFormat = "clixml" };
        await store.CreateJobAsync(job);
        const string Complex = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\r\n  <Obj RefId=\"0\" />\r\n</Objs>";
        await store.AddItemsAsync(job.Id, [
            new StoredItem { Index = 0, Input = CliXmlPlain.TryWrite("web01")! },
            new StoredItem { Index = 1, Input = Complex },
        ]);
        await store.CheckpointAsync(job.Id, [new ItemOutcome(0, ItemStatus.Succeeded, 1, CliXmlPlain.TryWrite(42), null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)]);
        job = (await store.GetJobAsync(job.Id))!;
        var csv = new StringWriter();
        using var json = new MemoryStream();

        await JobExporter.WriteCsvAsync(store, job, csv);
        await JobExporter.WriteJsonAsync(store, job, json);

        Assert.EndsWith(",web01,42", csv.ToString().Split(Environment.NewLine)[1], StringComparison.Ordinal);
        var items = JsonDocument.Parse(json.ToArray()).RootElement.GetProperty("items");
        Assert.Equal(("web01", "42"), (items[0].GetProperty("input").GetString(), items[0].GetProperty("output").GetString()));
        Assert.Equal(Complex, items[1].GetProperty("input").GetString());
    }
}
