using System.Reflection;
using System.Runtime.InteropServices;

namespace BatchOps.Packager;

/// <summary>One parameter set entry of a parameter, as declared by a [Parameter] attribute.</summary>
public sealed record ParameterSetEntry(string Name, bool Mandatory, int Position, bool FromPipeline, bool FromPipelineByPropertyName, string? HelpMessage);

/// <summary>A cmdlet parameter as declared in the assembly.</summary>
public sealed record ParameterModel(string Name, string TypeName, bool IsSwitch, IReadOnlyList<string> Aliases, IReadOnlyList<ParameterSetEntry> Sets, IReadOnlyList<string>? ValidValues, bool HasCompleter, bool SupportsWildcards)
{
    public const string AllSets = "__AllParameterSets";
}

/// <summary>A cmdlet as declared in the assembly: verb, noun, sets, output types, parameters.</summary>
public sealed record CmdletModel(string Verb, string Noun, string TypeName, string? DefaultParameterSet, bool SupportsShouldProcess, string? ConfirmImpact, IReadOnlyList<string> OutputTypes, IReadOnlyList<ParameterModel> Parameters)
{
    public string Name => $"{Verb}-{Noun}";

    /// <summary>The parameter set names this cmdlet has (the default one alone when all parameters are in all sets).</summary>
    public IReadOnlyList<string> ParameterSets
    {
        get
        {
            var named = Parameters.SelectMany(p => p.Sets).Select(s => s.Name).Where(n => n != ParameterModel.AllSets).Distinct().ToList();
            return named.Count > 0 ? named : [DefaultParameterSet ?? ParameterModel.AllSets];
        }
    }

    /// <summary>The parameters usable in a set, with their entry for it.</summary>
    public IEnumerable<(ParameterModel Parameter, ParameterSetEntry Entry)> ParametersIn(string set) =>
        Parameters.SelectMany(p => p.Sets.Where(s => s.Name == set || s.Name == ParameterModel.AllSets).Take(1).Select(s => (p, s)));
}

/// <summary>
/// Reads cmdlets from a built module assembly without running it (System.Reflection.MetadataLoadContext),
/// so the PowerShell surface can be checked and documented on a machine without PowerShell.
/// </summary>
public static class CmdletMetadata
{
    /// <summary>The PowerShellStandard reference assembly of System.Management.Automation in the NuGet cache.</summary>
    public static string FindSystemManagementAutomation()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "powershellstandard.library", "5.1.0-preview-06", "lib", "netstandard2.0", "System.Management.Automation.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"System.Management.Automation reference assembly not found at '{path}'. Run 'dotnet restore' first.", path);
    }

    /// <summary>Opens a context that can read <paramref name="assemblyPath"/> and resolve its references.</summary>
    public static MetadataLoadContext OpenContext(string assemblyPath, params string[] extraFolders)
    {
        var paths = new List<string>(Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")) { FindSystemManagementAutomation(), assemblyPath };
        foreach (var folder in extraFolders.Where(Directory.Exists))
        {
            paths.AddRange(Directory.GetFiles(folder, "*.dll"));
        }

        var byName = paths.GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).Select(g => g.Last());
        return new MetadataLoadContext(new PathAssemblyResolver(byName));
    }

    /// <summary>Every public, non-abstract cmdlet class in the assembly.</summary>
    public static IReadOnlyList<CmdletModel> Read(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var cmdlets = new List<CmdletModel>();
        foreach (var type in assembly.GetExportedTypes().Where(t => !t.IsAbstract))
        {
            var cmdlet = type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.CmdletAttribute");
            if (cmdlet is null)
            {
                continue;
            }

            var outputs = type.GetCustomAttributesData()
                .Where(a => a.AttributeType.FullName == "System.Management.Automation.OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments)
                .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
                .Select(v => v is Type t ? t.FullName! : v?.ToString() ?? "?")
                .ToList();
            cmdlets.Add(new CmdletModel(
                (string)cmdlet.ConstructorArguments[0].Value!,
                (string)cmdlet.ConstructorArguments[1].Value!,
                type.FullName!,
                Named<string>(cmdlet, "DefaultParameterSetName"),
                Named<bool>(cmdlet, "SupportsShouldProcess"),
                cmdlet.NamedArguments.FirstOrDefault(n => n.MemberName == "ConfirmImpact").TypedValue.Value is int impact ? ((string[])["None", "Low", "Medium", "High"])[impact] : null,
                outputs,
                ReadParameters(type)));
        }

        return cmdlets.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    private static List<ParameterModel> ReadParameters(Type type)
    {
        var parameters = new List<ParameterModel>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var attributes = property.GetCustomAttributesData();
            var sets = attributes.Where(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute").Select(a => new ParameterSetEntry(
                Named<string>(a, "ParameterSetName") ?? ParameterModel.AllSets,
                Named<bool>(a, "Mandatory"),
                a.NamedArguments.Any(n => n.MemberName == "Position") ? (int)a.NamedArguments.First(n => n.MemberName == "Position").TypedValue.Value! : int.MinValue,
                Named<bool>(a, "ValueFromPipeline"),
                Named<bool>(a, "ValueFromPipelineByPropertyName"),
                Named<string>(a, "HelpMessage"))).ToList();
            if (sets.Count == 0)
            {
                continue;
            }

            var aliases = attributes.Where(a => a.AttributeType.FullName == "System.Management.Automation.AliasAttribute")
                .SelectMany(a => (IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (string)v.Value!).ToList();
            var validValues = attributes.FirstOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.ValidateSetAttribute")?
                .ConstructorArguments.SelectMany(arg => (IEnumerable<CustomAttributeTypedArgument>)arg.Value!).Select(v => (string)v.Value!).ToList();
            var propertyType = property.PropertyType;
            var enumType = propertyType.IsArray ? propertyType.GetElementType()! : propertyType;
            if (validValues is null && enumType.IsEnum)
            {
                validValues = enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.Name).ToList();
            }

            parameters.Add(new ParameterModel(
                property.Name,
                FriendlyName(propertyType),
                propertyType.FullName == "System.Management.Automation.SwitchParameter",
                aliases,
                sets,
                validValues,
                attributes.Any(a => a.AttributeType.FullName == "System.Management.Automation.ArgumentCompleterAttribute"),
                attributes.Any(a => a.AttributeType.FullName == "System.Management.Automation.SupportsWildcardsAttribute")));
        }

        return parameters;
    }

    private static T? Named<T>(CustomAttributeData attribute, string name)
    {
        var argument = attribute.NamedArguments.FirstOrDefault(n => n.MemberName == name);
        return argument.MemberInfo is null ? default : (T?)argument.TypedValue.Value;
    }

    private static string FriendlyName(Type type)
    {
        if (type.IsArray)
        {
            return FriendlyName(type.GetElementType()!) + "[]";
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1")
        {
            return FriendlyName(type.GetGenericArguments()[0]);
        }

        return type.FullName switch
        {
            "System.String" => "String",
            "System.Int32" => "Int32",
            "System.Int64" => "Int64",
            "System.Double" => "Double",
            "System.Object" => "Object",
            "System.DateTime" => "DateTime",
            "System.Management.Automation.SwitchParameter" => "SwitchParameter",
            "System.Management.Automation.ScriptBlock" => "ScriptBlock",
            "System.Management.Automation.PSObject" => "PSObject",
            _ => type.FullName ?? type.Name,
        };
    }
}
