using System.Xml.Linq;

namespace BatchOps.Packager;

/// <summary>
/// Writes the MAML help file PowerShell reads for binary cmdlets (BatchOps.dll-Help.xml), from the
/// assembly's declared surface (syntax, types, positions, pipeline binding) and the markdown's words.
/// </summary>
public static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static readonly Dictionary<string, string> CommonShouldProcess = new()
    {
        ["WhatIf"] = "Shows what would happen if the cmdlet runs. The cmdlet is not run.",
        ["Confirm"] = "Prompts you for confirmation before running the cmdlet.",
    };

    /// <summary>Builds the help document for every cmdlet; throws when a cmdlet or parameter has no words.</summary>
    public static XDocument Write(IReadOnlyList<CmdletModel> cmdlets, IReadOnlyDictionary<string, CmdletHelpDocument> docs)
    {
        ArgumentNullException.ThrowIfNull(cmdlets);
        ArgumentNullException.ThrowIfNull(docs);
        var items = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"));
        foreach (var cmdlet in cmdlets)
        {
            var doc = docs.GetValueOrDefault(cmdlet.Name) ?? throw new InvalidDataException($"docs/cmdlets/{cmdlet.Name}.md is missing.");
            items.Add(CommandElement(cmdlet, doc));
        }

        return new XDocument(new XDeclaration("1.0", "utf-8", null), items);
    }

    private static XElement CommandElement(CmdletModel cmdlet, CmdletHelpDocument doc)
    {
        var parameters = cmdlet.Parameters;
        return new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XElement(Command + "details",
                new XElement(Command + "name", cmdlet.Name),
                new XElement(Command + "verb", cmdlet.Verb),
                new XElement(Command + "noun", cmdlet.Noun),
                Description(doc.Synopsis)),
            Description(doc.Description),
            new XElement(Command + "syntax", cmdlet.ParameterSets.Select(set => new XElement(Command + "syntaxItem",
                new XElement(Maml + "name", cmdlet.Name),
                cmdlet.ParametersIn(set).OrderBy(p => p.Entry.Position < 0 ? int.MaxValue : p.Entry.Position).Select(p => Parameter(p.Parameter, p.Entry, doc, cmdlet)),
                cmdlet.SupportsShouldProcess ? CommonShouldProcess.Select(c => Switch(c.Key, c.Value)) : null))),
            new XElement(Command + "parameters",
                parameters.Select(p => Parameter(p, p.Sets.OrderByDescending(s => s.Mandatory).First(), doc, cmdlet)),
                cmdlet.SupportsShouldProcess ? CommonShouldProcess.Select(c => Switch(c.Key, c.Value)) : null),
            new XElement(Command + "inputTypes", doc.Inputs.Select(i => new XElement(Command + "inputType",
                new XElement(Dev + "type", new XElement(Maml + "name", i.Title)), Description(i.Paragraphs)))),
            new XElement(Command + "returnValues", doc.Outputs.Select(o => new XElement(Command + "returnValue",
                new XElement(Dev + "type", new XElement(Maml + "name", o.Title)), Description(o.Paragraphs)))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", doc.Notes.Select(Para))),
            new XElement(Command + "examples", doc.Examples.Select((e, i) => new XElement(Command + "example",
                new XElement(Maml + "title", $"-------------------------- {e.Title} --------------------------"),
                new XElement(Dev + "code", e.Code),
                new XElement(Dev + "remarks", e.Remarks.Select(Para))))),
            new XElement(Command + "relatedLinks", doc.RelatedLinks.Select(l => new XElement(Maml + "navigationLink",
                new XElement(Maml + "linkText", l), new XElement(Maml + "uri")))));
    }

    private static XElement Parameter(ParameterModel parameter, ParameterSetEntry entry, CmdletHelpDocument doc, CmdletModel cmdlet)
    {
        var words = doc.Parameters.GetValueOrDefault(parameter.Name)
            ?? throw new InvalidDataException($"docs/cmdlets/{cmdlet.Name}.md does not describe the parameter -{parameter.Name}; add a '### -{parameter.Name}' section under '## PARAMETERS'.");
        var pipeline = entry.FromPipeline && entry.FromPipelineByPropertyName ? "True (ByValue, ByPropertyName)"
            : entry.FromPipeline ? "True (ByValue)"
            : entry.FromPipelineByPropertyName ? "True (ByPropertyName)"
            : "False";
        var valueType = parameter.IsSwitch ? null : new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", parameter.TypeName.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false"), parameter.TypeName);
        return new XElement(Command + "parameter",
            new XAttribute("required", entry.Mandatory ? "true" : "false"),
            new XAttribute("variableLength", "true"),
            new XAttribute("globbing", parameter.SupportsWildcards ? "true" : "false"),
            new XAttribute("pipelineInput", pipeline),
            new XAttribute("position", entry.Position < 0 ? "named" : entry.Position.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new XAttribute("aliases", parameter.Aliases.Count == 0 ? "none" : string.Join(", ", parameter.Aliases)),
            new XElement(Maml + "name", parameter.Name),
            Description(words.Paragraphs),
            parameter.ValidValues is { Count: > 0 } values ? new XElement(Command + "parameterValueGroup", values.Select(v => new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))) : null,
            valueType,
            new XElement(Dev + "type", new XElement(Maml + "name", parameter.TypeName)),
            new XElement(Dev + "defaultValue", "None"));
    }

    private static XElement Switch(string name, string description) => new(Command + "parameter",
        new XAttribute("required", "false"), new XAttribute("variableLength", "true"), new XAttribute("globbing", "false"),
        new XAttribute("pipelineInput", "False"), new XAttribute("position", "named"), new XAttribute("aliases", name == "WhatIf" ? "wi" : "cf"),
        new XElement(Maml + "name", name), Description(description),
        new XElement(Dev + "type", new XElement(Maml + "name", "SwitchParameter")), new XElement(Dev + "defaultValue", "False"));

    private static XElement Description(string text) => Description([text]);

    private static XElement Description(IEnumerable<string> paragraphs) => new(Maml + "description", paragraphs.Select(Para));

    private static XElement Para(string text) => new(Maml + "para", text);
}
