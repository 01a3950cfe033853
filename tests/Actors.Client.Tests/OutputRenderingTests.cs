using System.Text.Json.Nodes;
using Actors.Grains;
using Actors.Hvctl.Output;

namespace Actors.Client.Tests;

/// <summary>The documents hvctl prints, without a cluster: JSON's conventions, and YAML that reads back as the same document.</summary>
public sealed class OutputRenderingTests
{
    private static readonly DateTimeOffset Started = new(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(2));

    private static VmStatus Tricky => new(
        "web",
        VmState.Failed,
        new VmConfiguration("abc", 64 << 20, 1, "host-a", "boot.elf",
            new Dictionary<string, string>
            {
                ["opt/yes"] = "yes",
                ["opt/number"] = "123",
                ["opt/null"] = "null",
                ["opt/empty"] = "",
                ["opt/colon"] = "a: b",
                ["opt/dash"] = "- x",
                ["opt/lines"] = "one\ntwo",
                ["opt/hash"] = "# not a comment",
                ["opt/unicode"] = "grüße",
            },
            CommandLine: "console=ttyS0 panic=-1"),
        "host-a",
        "it said 'no' & <stopped>",
        3,
        42,
        7,
        Started,
        EndReason: "reset (triple fault)",
        Unimplemented: ["port 0xcf8 written"]);

    [Fact]
    public void Json_uses_camel_case_names_enum_names_bytes_as_numbers_and_utc_times_and_keeps_text_readable()
    {
        string json = OutputRenderer.Render(OutputFormat.Json, () => "table", () => VmView.From(Tricky), OutputJsonContext.Default.VmView);

        JsonNode vm = JsonNode.Parse(json)!;
        Assert.Equal("Failed", (string?)vm["state"]);
        Assert.Equal(64L << 20, (long?)vm["memoryBytes"]);
        Assert.Equal("2026-03-04T03:06:07Z", (string?)vm["startedAt"]);
        Assert.Equal("it said 'no' & <stopped>", (string?)vm["failureReason"]);
        // Not escaped for HTML: a person reads this in a terminal, a program through a JSON parser.
        Assert.Contains("\"it said 'no' & <stopped>\"", json);
        Assert.Contains("\"grüße\"", json);
        Assert.EndsWith("}\n", json);
        Assert.Contains("\n  \"name\": \"web\",\n", json);
        // Every field is always there: null when there is nothing to say.
        Assert.Null(vm["heartbeat"]);
        Assert.True(((JsonObject)vm).ContainsKey("heartbeat"));
    }

    [Fact]
    public void One_line_json_is_one_line()
    {
        string json = OutputRenderer.Render(OutputFormat.Json, () => "table", () => (IReadOnlyList<VmView>)[VmView.From(Tricky), VmView.From(Tricky)], OutputJsonContext.Default.IReadOnlyListVmView, oneLine: true);

        Assert.Single(json.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, JsonNode.Parse(json)!.AsArray().Count);
    }

    [Fact]
    public void Yaml_reads_back_as_the_json_document_strings_that_look_like_other_things_included()
    {
        string json = OutputRenderer.Render(OutputFormat.Json, () => "table", () => VmView.From(Tricky), OutputJsonContext.Default.VmView);
        string yaml = OutputRenderer.Render(OutputFormat.Yaml, () => "table", () => VmView.From(Tricky), OutputJsonContext.Default.VmView);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), YamlAsJson.Parse(yaml)), $"{json}\n!=\n{yaml}");
        Assert.Contains("\nstate: Failed\n", yaml);
        Assert.Contains("\nheartbeat: null\n", yaml);
        Assert.DoesNotContain(" \n", yaml);
    }

    [Fact]
    public void The_table_is_the_table()
    {
        Assert.Equal("NAME\n", OutputRenderer.Render(OutputFormat.Table, () => "NAME\n", () => VmView.From(Tricky), OutputJsonContext.Default.VmView));
    }

    /// <summary>
    /// The JSON names enum members as the grain contracts do; docs/hvctl.md lists them. Renaming a member changes
    /// hvctl's output, so this test fails first: update the docs with the enum.
    /// </summary>
    [Fact]
    public void The_state_names_in_the_json_are_those_the_docs_list()
    {
        Assert.Equal(["Defined", "Starting", "Running", "Paused", "Stopping", "Off", "Failed"], Enum.GetNames<VmState>());
        Assert.Equal(["Copying", "Completed", "Failed"], Enum.GetNames<MigrationState>());
    }

    [Fact]
    public void A_migrations_rates_before_anything_was_measured_are_zero_not_nan()
    {
        var m = new MigrationStatus("m", "vm", "a", "b", MigrationState.Copying, 0, 10, double.NaN, double.PositiveInfinity, 0, 1 << 20, Started, null, null, null);

        string json = OutputRenderer.Render(OutputFormat.Json, () => "", () => (IReadOnlyList<MigrationView>)[MigrationView.From(m)], OutputJsonContext.Default.IReadOnlyListMigrationView);

        JsonNode view = JsonNode.Parse(json)!.AsArray()[0]!;
        Assert.Equal(0, (double?)view["dirtyPagesPerSecond"]);
        Assert.Equal(0, (double?)view["bytesPerSecond"]);
        Assert.Null(view["downtimeMs"]);
        Assert.Null(view["endedAt"]);
    }
}
