using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Actors.Hvctl.Output;

/// <summary>The one place a read command's result becomes text in the format the user chose.</summary>
internal static class OutputRenderer
{
    /// <summary>
    /// The table, or the view as JSON or YAML. <paramref name="oneLine"/> writes JSON on one line (for
    /// <c>--watch</c>'s one document per line); otherwise it is indented for a person. Always ends in a newline.
    /// </summary>
    public static string Render<TView>(OutputFormat format, Func<string> table, Func<TView> view, JsonTypeInfo<TView> type, bool oneLine = false) =>
        format switch
        {
            OutputFormat.Table => table(),
            OutputFormat.Json => Json(view(), type, indented: !oneLine) + "\n",
            OutputFormat.Yaml => YamlFromJson.Convert(Json(view(), type, indented: false)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };

    public static string Json<TView>(TView view, JsonTypeInfo<TView> type, bool indented)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = indented,
            // Output for a terminal or a program, never embedded in HTML: an apostrophe in a failure reason stays one.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            JsonSerializer.Serialize(writer, view, type);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
