using System.Text;
using System.Text.Json;

namespace BatchOps.Operations.Spec;

/// <summary>
/// A JSON value whose string values may hold placeholders (an HTTP body). Only strings are templated, and
/// the result is written with a JSON writer, so filled-in values are always escaped correctly.
/// </summary>
public sealed class JsonTemplate
{
    private readonly JsonElement _shape;
    private readonly Dictionary<string, Template> _strings = new(StringComparer.Ordinal);

    public JsonTemplate(JsonElement shape, string where)
    {
        _shape = shape.Clone();
        Collect(_shape, where);
    }

    public void Validate(JsonElement item, long index, bool undo = false)
    {
        foreach (var template in _strings.Values)
        {
            template.Validate(item, index, undo);
        }
    }

    public string Render(JsonElement item, long index) => Render(item, new ItemContext(index));

    public string Render(JsonElement item, in ItemContext context)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, _shape, item, context);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private void Collect(JsonElement element, string where)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _strings.TryAdd(element.GetString()!, Template.Parse(element.GetString()!, where));
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Collect(property.Value, $"{where}.{property.Name}");
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var value in element.EnumerateArray())
                {
                    Collect(value, $"{where}[{i++}]");
                }

                break;
        }
    }

    private void Write(Utf8JsonWriter writer, JsonElement element, JsonElement item, in ItemContext context)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                writer.WriteStringValue(_strings[element.GetString()!].Render(item, context));
                break;
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value, item, context);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var value in element.EnumerateArray())
                {
                    Write(writer, value, item, context);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
