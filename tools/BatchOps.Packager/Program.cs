using BatchOps.Packager;

// Usage: dotnet run --project tools/BatchOps.Packager [-- --configuration Release]
var configuration = args.SkipWhile(a => a != "--configuration").Skip(1).FirstOrDefault() ?? "Release";
try
{
    var root = ModulePackager.FindRepositoryRoot(AppContext.BaseDirectory);
    new ModulePackager(root, configuration).Package(Console.Out);
    return 0;
}
catch (Exception error) when (error is InvalidOperationException or InvalidDataException or FormatException or IOException)
{
    Console.Error.WriteLine($"package: {error.Message}");
    return 1;
}
