namespace BatchOps.Packager;

/// <summary>An example: title, code, remarks.</summary>
public sealed record HelpExample(string Title, string Code, IReadOnlyList<string> Remarks);

/// <summary>A titled block (an input or output type, a parameter) with paragraphs.</summary>
public sealed record HelpEntry(string Title, IReadOnlyList<string> Paragraphs);

/// <summary>
/// The help of one cmdlet as written in docs/cmdlets/&lt;Name&gt;.md: a small platyPS-like layout
/// (# Name, then ## SYNOPSIS, DESCRIPTION, EXAMPLES with ### titles and a fenced code block, PARAMETERS
/// with ### -Name, INPUTS, OUTPUTS, NOTES, RELATED LINKS).
/// </summary>
public sealed class CmdletHelpDocument
{
    public required string Name { get; init; }

    public string Synopsis { get; init; } = string.Empty;

    public IReadOnlyList<string> Description { get; init; } = [];

    public IReadOnlyList<HelpExample> Examples { get; init; } = [];

    public IReadOnlyDictionary<string, HelpEntry> Parameters { get; init; } = new Dictionary<string, HelpEntry>();

    public IReadOnlyList<HelpEntry> Inputs { get; init; } = [];

    public IReadOnlyList<HelpEntry> Outputs { get; init; } = [];

    public IReadOnlyList<string> Notes { get; init; } = [];

    public IReadOnlyList<string> RelatedLinks { get; init; } = [];

    public static CmdletHelpDocument Parse(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        string? name = null;
        var sections = new Dictionary<string, List<(string? Title, List<string> Lines)>>(StringComparer.OrdinalIgnoreCase);
        List<(string? Title, List<string> Lines)>? section = null;
        List<string>? current = null;
        var inCode = false;
        foreach (var raw in markdown.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
            }

            if (!inCode && line.StartsWith("# ", StringComparison.Ordinal))
            {
                name = line[2..].Trim();
            }
            else if (!inCode && line.StartsWith("## ", StringComparison.Ordinal))
            {
                section = [];
                sections[line[3..].Trim()] = section;
                current = [];
                section.Add((null, current));
            }
            else if (!inCode && line.StartsWith("### ", StringComparison.Ordinal) && section is not null)
            {
                current = [];
                section.Add((line[4..].Trim(), current));
            }
            else
            {
                current?.Add(line);
            }
        }

        if (name is null)
        {
            throw new FormatException("A cmdlet help file must start with '# Verb-Noun'.");
        }

        List<(string? Title, List<string> Lines)> Section(string key) => sections.GetValueOrDefault(key) ?? [];
        IEnumerable<(string Title, List<string> Lines)> Titled(string key) => Section(key).Where(s => s.Title is not null).Select(s => (s.Title!, s.Lines));
        List<string> Untitled(string key) => Paragraphs(Section(key).Where(s => s.Title is null).SelectMany(s => s.Lines));

        return new CmdletHelpDocument
        {
            Name = name,
            Synopsis = string.Join(' ', Untitled("SYNOPSIS")),
            Description = Untitled("DESCRIPTION"),
            Examples = Titled("EXAMPLES").Select(e => ParseExample(e.Title, e.Lines)).ToList(),
            Parameters = Titled("PARAMETERS").ToDictionary(p => p.Title.TrimStart('-'), p => new HelpEntry(p.Title.TrimStart('-'), Paragraphs(p.Lines)), StringComparer.OrdinalIgnoreCase),
            Inputs = Titled("INPUTS").Select(p => new HelpEntry(p.Title, Paragraphs(p.Lines))).ToList(),
            Outputs = Titled("OUTPUTS").Select(p => new HelpEntry(p.Title, Paragraphs(p.Lines))).ToList(),
            Notes = Untitled("NOTES"),
            RelatedLinks = Section("RELATED LINKS").SelectMany(s => s.Lines).Select(l => l.Trim().TrimStart('-', '*').Trim()).Where(l => l.Length > 0).ToList(),
        };
    }

    private static HelpExample ParseExample(string title, List<string> lines)
    {
        var start = lines.FindIndex(l => l.StartsWith("```", StringComparison.Ordinal));
        var end = start < 0 ? -1 : lines.FindIndex(start + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        if (start < 0 || end < 0)
        {
            throw new FormatException($"Example '{title}' needs a fenced code block.");
        }

        return new HelpExample(title, string.Join('\n', lines[(start + 1)..end]), Paragraphs(lines[(end + 1)..]));
    }

    /// <summary>Joins lines into paragraphs separated by blank lines; list items stay separate paragraphs.</summary>
    private static List<string> Paragraphs(IEnumerable<string> lines)
    {
        var paragraphs = new List<string>();
        var current = new List<string>();
        void Flush()
        {
            if (current.Count > 0)
            {
                paragraphs.Add(string.Join(' ', current));
                current.Clear();
            }
        }

        foreach (var line in lines.Select(l => l.Trim()))
        {
            if (line.Length == 0)
            {
                Flush();
            }
            else
            {
                if (line.StartsWith("- ", StringComparison.Ordinal))
                {
                    Flush();
                }

                current.Add(line);
            }
        }

        Flush();
        return paragraphs;
    }
}
