using System.Text.Json;
using YamlDotNet.Serialization;

namespace Actors.Hvctl.Output;

/// <summary>
/// YAML written from the JSON document rather than from the views, so that both formats have one shape and the
/// same field names by construction. YamlDotNet quotes the strings a YAML reader would otherwise take for a
/// number, a boolean or null ("123", "true", "~").
/// </summary>
internal static class YamlFromJson
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithQuotingNecessaryStrings()
        // Below YamlDotNet's own emitters, which would write their empty null over ours.
        .WithEventEmitter(next => new NullAsNullEmitter(next), where => where.OnBottom())
        .Build();

    public static string Convert(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return Serializer.Serialize(Plain(document.RootElement));
    }

    /// <summary>The document as dictionaries (in field order), lists and scalars, which YamlDotNet writes as mappings, sequences and scalars.</summary>
    private static object? Plain(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Aggregate(
            new Dictionary<string, object?>(StringComparer.Ordinal),
            (fields, property) =>
            {
                fields.Add(property.Name, Plain(property.Value));
                return fields;
            }),
        JsonValueKind.Array => element.EnumerateArray().Select(Plain).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out long integer) ? integer
            : element.TryGetUInt64(out ulong large) ? large
            : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
