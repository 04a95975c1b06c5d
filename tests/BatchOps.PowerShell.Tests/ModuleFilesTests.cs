using System.Xml.Linq;

namespace BatchOps.PowerShell.Tests;

/// <summary>The files a packaged module needs: layout, formats, help.</summary>
[Collection(PackagedModuleCollection.Name)]
public class ModuleFilesTests(PackagedModuleFixture module)
{
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    [Fact]
    public void Layout_KeepsOnlyTheCmdletAssemblyInTheRootAndEverythingElseInDependencies()
    {
        var root = Directory.GetFiles(module.ModuleFolder, "*.dll").Select(Path.GetFileName);
        var dependencies = Directory.GetFiles(Path.Combine(module.ModuleFolder, "Dependencies"), "*.dll").Select(Path.GetFileName).ToList();

        Assert.Equal(["BatchOps.dll"], root);
        Assert.Contains("BatchOps.Engine.dll", dependencies);
        Assert.Contains("Polly.Core.dll", dependencies);
        Assert.Contains("Microsoft.Data.Sqlite.dll", dependencies);
        Assert.Contains("BatchOps.Sql.dll", dependencies);
        Assert.Contains("Npgsql.dll", dependencies);
        Assert.DoesNotContain("System.Management.Automation.dll", dependencies);
        foreach (var (rid, file) in new[] { ("linux-x64", "libe_sqlite3.so"), ("linux-arm64", "libe_sqlite3.so"), ("osx-arm64", "libe_sqlite3.dylib"), ("win-x64", "e_sqlite3.dll") })
        {
            Assert.True(File.Exists(Path.Combine(module.ModuleFolder, "Dependencies", "runtimes", rid, "native", file)), $"{rid}/{file} is missing.");
        }
    }

    [Fact]
    public void FormatFile_HasTableViewsForTheOutputTypesOfTheCmdletAssembly()
    {
        var format = XDocument.Load(Path.Combine(module.ModuleFolder, "BatchOps.format.ps1xml"));
        var views = format.Descendants("View").ToList();
        var engine = module.Context.LoadFromAssemblyPath(Path.Combine(module.ModuleFolder, "Dependencies", "BatchOps.Engine.dll"));

        foreach (var type in new[] { "BatchOps.BatchJob", "BatchOps.BatchItemResult", "BatchOps.BatchItemHistory" })
        {
            var view = Assert.Single(views, v => v.Element("TableControl") is not null && v.Element("ViewSelectedBy")!.Element("TypeName")!.Value == type);

            // Users type these names in the session: they must live in BatchOps.dll, which PowerShell loads
            // in its own context, not in the engine's private one.
            Assert.NotNull(module.Assembly.GetType(type));
            Assert.Null(engine.GetType(type));
        }
    }

    [Fact]
    public void Help_ShowsSynopsisDescriptionEveryParameterAndTwoExamplesPerCmdlet()
    {
        var help = XDocument.Load(Path.Combine(module.ModuleFolder, "en-US", "BatchOps.dll-Help.xml"));
        var commands = help.Root!.Elements(Command + "command").ToDictionary(c => c.Element(Command + "details")!.Element(Command + "name")!.Value);

        Assert.Equal(module.Cmdlets.Select(c => c.Name).Order(), commands.Keys.Order());
        foreach (var cmdlet in module.Cmdlets)
        {
            var command = commands[cmdlet.Name];
            Assert.False(string.IsNullOrWhiteSpace(command.Element(Command + "details")!.Element(Maml + "description")!.Value), $"{cmdlet.Name}: no synopsis.");
            Assert.True(command.Element(Maml + "description")!.Elements(Maml + "para").Any(), $"{cmdlet.Name}: no description.");
            var documented = command.Element(Command + "parameters")!.Elements(Command + "parameter")
                .ToDictionary(p => p.Element(Maml + "name")!.Value, p => p.Element(Maml + "description")!.Value);
            foreach (var parameter in cmdlet.Parameters)
            {
                Assert.True(documented.TryGetValue(parameter.Name, out var words) && words.Length > 10, $"{cmdlet.Name} -{parameter.Name} is not described.");
            }

            var examples = command.Element(Command + "examples")!.Elements(Command + "example").ToList();
            Assert.True(examples.Count >= 2, $"{cmdlet.Name} has {examples.Count} example(s).");
            Assert.All(examples, e => Assert.Contains(cmdlet.Name.Split('-')[1], e.Element(Dev + "code")!.Value + cmdlet.Name, StringComparison.Ordinal));
            Assert.Equal(cmdlet.ParameterSets.Count, command.Element(Command + "syntax")!.Elements(Command + "syntaxItem").Count());
        }
    }

    [Fact]
    public void Help_AboutTopicShipsWithTheModule()
    {
        var about = File.ReadAllText(Path.Combine(module.ModuleFolder, "en-US", "about_BatchOps.help.txt"));

        Assert.StartsWith("TOPIC", about, StringComparison.Ordinal);
        Assert.Contains("$using:", about, StringComparison.Ordinal);
        Assert.Contains("-ImportModule", about, StringComparison.Ordinal);
    }

    [Fact]
    public void Docs_EveryCmdletFileNamesARealCmdlet() =>
        Assert.Equal(module.Cmdlets.Select(c => c.Name).Order(), module.Docs.Keys.Order());
}
