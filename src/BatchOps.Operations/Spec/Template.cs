using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BatchOps.Operations.Spec;

/// <summary>
/// A string with placeholders, compiled once: {field.path} (a field of the item, dots into objects and
/// arrays), {item} (the whole item as JSON), {index} (its 0-based index), {jobId}, {idempotencyKey} and
/// {stage} (see <see cref="ItemContext"/>), and in an undo {output} or {output.path} (what the item's forward
/// operation returned). {{ and }} stand for braces. Every value filled in is encoded for where the template
/// stands (<see cref="PlaceholderEncoding"/>): item data is untrusted and never becomes structure; in a URL,
/// {+field} inserts a value with its reserved characters (a path or a whole URL the spec trusts the data with).
/// </summary>
public sealed class Template
{
    private readonly List<(string? Text, string[]? Path, bool Reserved)> _parts = [];

    private Template(string source, string where, PlaceholderEncoding encoding)
    {
        Source = source;
        Where = where;
        Encoding = encoding;
        var text = new StringBuilder();
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if ((c == '{' || c == '}') && i + 1 < source.Length && source[i + 1] == c)
            {
                text.Append(c);
                i++;
                continue;
            }

            if (c == '}')
            {
                throw new JobSpecException($"{where}: a lone '}}' in \"{source}\"; write '}}}}' for a literal brace.");
            }

            if (c != '{')
            {
                text.Append(c);
                continue;
            }

            var end = source.IndexOf('}', i + 1);
            if (end < 0)
            {
                throw new JobSpecException($"{where}: the placeholder opened at position {i} in \"{source}\" is not closed; write '{{{{' for a literal brace.");
            }

            var name = source[(i + 1)..end].Trim();
            var reserved = name.StartsWith('+');
            if (reserved)
            {
                name = name[1..].Trim();
                if (encoding != PlaceholderEncoding.Url)
                {
                    throw new JobSpecException($"{where}: '{{+{name}}}' (reserved expansion) only means something in a url; write '{{{name}}}' here.");
                }
            }

            if (name.Length == 0)
            {
                throw new JobSpecException($"{where}: empty placeholder '{{}}' in \"{source}\"; use {{field}}, {{item}} or {{index}}.");
            }

            if (text.Length > 0)
            {
                _parts.Add((text.ToString(), null, false));
                text.Clear();
            }

            _parts.Add((null, name.Split('.'), reserved));
            i = end;
        }

        if (text.Length > 0)
        {
            _parts.Add((text.ToString(), null, false));
        }

        if (encoding == PlaceholderEncoding.JsonString)
        {
            CheckPlaceholdersAreInJsonStrings();
        }
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Where in the spec the template stands (operation.args[1]), for error messages.</summary>
    public string Where { get; }

    /// <summary>How the values filled in are encoded.</summary>
    public PlaceholderEncoding Encoding { get; }

    /// <summary>Whether the template holds any placeholder.</summary>
    public bool HasPlaceholders => _parts.Any(p => p.Path is not null);

    /// <summary>Whether a {+field} placeholder inserts a value with its reserved URL characters (the spec trusts it).</summary>
    public bool HasReservedExpansion => _parts.Any(p => p.Reserved);

    /// <summary>The placeholders as written, for messages: {name}, {+path}.</summary>
    public IEnumerable<string> Placeholders => _parts.Where(p => p.Path is not null).Select(p => $"{{{(p.Reserved ? "+" : string.Empty)}{string.Join('.', p.Path!)}}}");

    /// <summary>Whether the template uses {jobId} or {idempotencyKey}, which only a running job can fill.</summary>
    public bool UsesJob => _parts.Any(p => p.Path is ["jobId"] or ["idempotencyKey"]);

    /// <summary>Compiles <paramref name="source"/>; <paramref name="where"/> names its place in the spec for messages.</summary>
    public static Template Parse(string source, string where, PlaceholderEncoding encoding = PlaceholderEncoding.Raw) => new(source, where, encoding);

    /// <summary>
    /// Throws when an item lacks a field the template uses; run on every item before any runs. An undo's
    /// {output…} placeholders are filled from the forward operation's output, known only after it ran.
    /// </summary>
    public void Validate(JsonElement item, long index, bool undo = false)
    {
        foreach (var (_, path, _) in _parts)
        {
            if (path is not null && !IsSpecial(path) && !(undo && path[0] == "output") && !TryResolve(item, path, out _))
            {
                throw new JobSpecException($"Item {index} has no field '{string.Join('.', path)}', which {Where} uses in \"{Source}\". Add the field to every item or change the placeholder.");
            }
        }
    }

    /// <summary>Fills the placeholders from an item.</summary>
    public string Render(JsonElement item, long index) => Render(item, new ItemContext(index));

    /// <summary>Fills the placeholders from an item and what is known of it (its job, its key).</summary>
    public string Render(JsonElement item, in ItemContext context)
    {
        var index = context.Index;
        if (!HasPlaceholders)
        {
            return Source.Replace("{{", "{", StringComparison.Ordinal).Replace("}}", "}", StringComparison.Ordinal);
        }

        var result = new StringBuilder();
        foreach (var (text, path, reserved) in _parts)
        {
            if (text is not null)
            {
                result.Append(text);
                continue;
            }

            var segments = path!;
            var value = segments switch
            {
                ["index"] => index.ToString(CultureInfo.InvariantCulture),
                ["item"] => item.GetRawText(),
                ["jobId"] => context.JobId ?? ItemContext.NoJobYet,
                ["idempotencyKey"] => context.IdempotencyKey,
                ["stage"] => context.Stage ?? string.Empty,
                ["output", ..] when context.Output is { } output => TryResolve(output, segments[1..], out var part) ? Text(part)
                    : throw new JobSpecException($"Item {index}: the output of its operation has no field '{string.Join('.', segments[1..])}', which {Where} uses."),
                _ => TryResolve(item, segments, out var field) ? Text(field) : throw new JobSpecException($"Item {index} has no field '{string.Join('.', segments)}' used by {Where}."),
            };
            result.Append(Encode(value, reserved));
        }

        return result.ToString();
    }

    private string Encode(string value, bool reserved) => Encoding switch
    {
        PlaceholderEncoding.Url => reserved ? UriExpansion.ReservedExpansion(value) : UriExpansion.Simple(value),
        PlaceholderEncoding.Form => UriExpansion.Simple(value),
        PlaceholderEncoding.JsonString => JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value,
        _ => value,
    };

    /// <summary>
    /// A JSON text template may put item values only inside string literals, where they are escaped as string
    /// content; a bare placeholder would let a value write JSON structure (another field, another type).
    /// </summary>
    private void CheckPlaceholdersAreInJsonStrings()
    {
        var inString = false;
        var escaped = false;
        foreach (var (text, path, _) in _parts)
        {
            if (path is not null)
            {
                var name = string.Join('.', path);
                if (inString && escaped)
                {
                    throw new JobSpecException($"{Where}: the placeholder {{{name}}} follows a backslash in a JSON string, which would escape the value's first character. Remove the backslash or write '\\\\' for a literal one.");
                }

                if (!inString)
                {
                    throw new JobSpecException($"{Where}: the placeholder {{{name}}} stands outside a JSON string in a JSON body, where an item's value could add fields or change types. Put it in quotes (\"{{{name}}}\"), or give \"body\" as a JSON object, whose string values are filled in escaped.");
                }

                continue;
            }

            foreach (var c in text!)
            {
                if (escaped)
                {
                    escaped = false;
                }
                else if (inString && c == '\\')
                {
                    escaped = true;
                }
                else if (c == '"')
                {
                    inString = !inString;
                }
            }
        }
    }

    private static bool IsSpecial(string[] path) => path is ["index"] or ["item"] or ["jobId"] or ["idempotencyKey"] or ["stage"];

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Null => string.Empty,
        _ => value.GetRawText(),
    };

    private static bool TryResolve(JsonElement item, string[] path, out JsonElement value)
    {
        value = item;
        foreach (var segment in path)
        {
            if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty(segment, out var child))
            {
                value = child;
            }
            else if (value.ValueKind == JsonValueKind.Array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < value.GetArrayLength())
            {
                value = value[i];
            }
            else
            {
                return false;
            }
        }

        return true;
    }
}
