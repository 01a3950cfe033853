using System.CommandLine;
using System.CommandLine.Parsing;

namespace Actors.Hvctl.Output;

/// <summary>
/// <c>-o</c>/<c>--output table|json|yaml</c>, which every read command takes. Its own parser rather than an enum
/// binding: an enum would also take "1" or "JSON" and name its type in the error; this says what to write instead.
/// </summary>
internal static class OutputOption
{
    private static readonly string[] Names = ["table", "json", "yaml"];

    public static Option<OutputFormat> Create()
    {
        var option = new Option<OutputFormat>("--output", "-o")
        {
            Description = "print a table (the default), or a document: json or yaml (field names in docs/hvctl.md)",
            HelpName = "table|json|yaml",
            DefaultValueFactory = _ => OutputFormat.Table,
            CustomParser = Parse,
        };
        // The enum's own completions would offer "Json" beside "json".
        option.CompletionSources.Clear();
        option.CompletionSources.Add(Names);
        return option;
    }

    private static OutputFormat Parse(ArgumentResult result)
    {
        string text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value;
        switch (text)
        {
            case "table": return OutputFormat.Table;
            case "json": return OutputFormat.Json;
            case "yaml": return OutputFormat.Yaml;
            default:
                result.AddError($"unknown output format '{text}': use table, json or yaml");
                return OutputFormat.Table;
        }
    }
}
