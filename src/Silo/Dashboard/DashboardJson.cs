using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Actors.Silo.Dashboard;

/// <summary>The dashboard's JSON, as its page and API clients read it: camelCase names, null fields left out.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(DashboardAnswer))]
[JsonSerializable(typeof(MigrateRequest))]
internal sealed partial class DashboardJson : JsonSerializerContext
{
    /// <summary>As <see cref="JsonSerializerContext.Default"/>, with quotes and apostrophes left as they are (for people reading the API's answers); nothing embeds this JSON in HTML.</summary>
    public static DashboardJson Readable { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
