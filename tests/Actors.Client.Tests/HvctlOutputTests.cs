using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Client.Tests;

/// <summary>
/// Each read command's <c>-o json</c> read back with System.Text.Json, and <c>-o yaml</c> read back as YAML,
/// against real silo processes; the field names are those docs/hvctl.md promises.
/// </summary>
[Collection(OutputCluster.Collection)]
public sealed class HvctlOutputTests(OutputCluster cluster)
{
    [Fact]
    public async Task Vm_list_json_is_an_array_with_each_vms_configuration_state_and_placement()
    {
        using JsonDocument list = Json(await cluster.HvctlAsync("vm", "list", "-o", "json"));

        Assert.Equal(JsonValueKind.Array, list.RootElement.ValueKind);
        Assert.Equal(["out-mv", "out-web"], list.RootElement.EnumerateArray().Select(v => v.GetProperty("name").GetString()));

        JsonElement web = list.RootElement[1];
        Assert.Equal("Defined", web.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, web.GetProperty("host").ValueKind);
        Assert.Equal(32L << 20, web.GetProperty("memoryBytes").GetInt64());
        Assert.Equal(2, web.GetProperty("vcpus").GetInt32());
        Assert.True(web.GetProperty("hyperv").GetBoolean());
        Assert.Equal("hello.elf", web.GetProperty("image").GetString());
        Assert.Equal(HypervisorClient.ImageId(File.ReadAllBytes(OutputCluster.Guest("hello.elf"))), web.GetProperty("imageId").GetString());
        JsonElement disk = Assert.Single(web.GetProperty("disks").EnumerateArray());
        Assert.Equal((0, "out-disk"), (disk.GetProperty("lun").GetInt32(), disk.GetProperty("name").GetString()));
        JsonElement[] nics = [.. web.GetProperty("nics").EnumerateArray()];
        Assert.Equal([0, 1], nics.Select(n => n.GetProperty("index").GetInt32()));
        Assert.All(nics, n => Assert.Equal("out-lan", n.GetProperty("switch").GetString()));
        Assert.Matches("^00:15:5d(:[0-9a-f]{2}){3}$", nics[0].GetProperty("mac").GetString());
        Assert.Equal("02:00:00:00:00:01", nics[1].GetProperty("mac").GetString());
        Assert.Equal("true", web.GetProperty("fwCfg").GetProperty("opt/actors/greeting").GetString());
        Assert.Equal(JsonValueKind.Null, web.GetProperty("startedAt").ValueKind);

        JsonElement mv = list.RootElement[0];
        Assert.Equal(("Running", "out-b", "out-a"), (mv.GetProperty("state").GetString(), mv.GetProperty("host").GetString(), mv.GetProperty("preferredHost").GetString()));
        Assert.Equal(32L << 20, mv.GetProperty("memoryBytes").GetInt64());
        AssertUtc(mv.GetProperty("startedAt"));
        Assert.True(mv.GetProperty("instructionsRetired").GetUInt64() > 0);
        // The guest never opens the integration services' channels: each is listed, by name, with the state it is in.
        Assert.Contains("heartbeat", mv.GetProperty("integrationServices").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.All(mv.GetProperty("integrationServices").EnumerateArray(), s => Assert.NotEmpty(s.GetProperty("state").GetString()!));
    }

    [Fact]
    public async Task Vm_show_json_is_one_object_of_the_shape_vm_list_prints_for_each()
    {
        using JsonDocument show = Json(await cluster.HvctlAsync("vm", "show", "out-web", "-o", "json"));
        using JsonDocument list = Json(await cluster.HvctlAsync("vm", "list", "-o", "json"));

        Assert.Equal(JsonValueKind.Object, show.RootElement.ValueKind);
        // A VM that is only defined does not change between the two calls: the documents are the same, field for field.
        JsonElement listed = list.RootElement.EnumerateArray().Single(v => v.GetProperty("name").GetString() == "out-web");
        Assert.True(JsonElement.DeepEquals(listed, show.RootElement), $"{listed}\n!=\n{show.RootElement}");
        Assert.Equal(
            ["name", "state", "host", "preferredHost", "backend", "cpuTier", "image", "imageId", "initrdId", "commandLine", "memoryBytes", "vcpus", "hyperv", "vspHost",
             "disks", "nics", "fwCfg", "startedAt", "instructionsRetired", "translation", "consoleBytes", "exitStatus", "endReason", "failureReason",
             "heartbeat", "integrationServices", "unimplemented"],
            show.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Vm_list_and_show_yaml_are_the_json_documents_in_yaml()
    {
        foreach (string[] command in new[] { new[] { "vm", "list" }, ["vm", "show", "out-web"], ["vm", "show", "out-mv"] })
        {
            // Counters of a running VM move between two calls; both documents come from one answer only for out-web.
            string json = (await cluster.HvctlAsync([.. command, "-o", "json"])).Succeeded();
            string yaml = (await cluster.HvctlAsync([.. command, "-o", "yaml"])).Succeeded();
            JsonNode? fromYaml = YamlAsJson.Parse(yaml);
            JsonNode? fromJson = JsonNode.Parse(json);
            if (command is [_, "show", "out-web"])
            {
                Assert.True(JsonNode.DeepEquals(fromJson, fromYaml), $"{string.Join(' ', command)}:\n{json}\n!=\n{yaml}");
                Assert.Contains("\nhost: null\n", yaml);
                Assert.Contains("\n  opt/actors/greeting: \"true\"\n", yaml);
            }
            else
            {
                Assert.Equal(Shape(fromJson), Shape(fromYaml));
            }
        }
    }

    [Fact]
    public async Task Vm_bus_json_has_the_bus_and_its_channels_where_the_vm_runs_now()
    {
        using JsonDocument bus = Json(await cluster.HvctlAsync("vm", "bus", "out-mv", "-o", "json"));

        JsonElement root = bus.RootElement;
        Assert.Equal(("out-mv", "out-b"), (root.GetProperty("vm").GetString(), root.GetProperty("host").GetString()));
        Assert.False(root.GetProperty("connected").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("version").ValueKind);
        JsonElement[] channels = [.. root.GetProperty("channels").EnumerateArray()];
        Assert.Equal(["heartbeat", "shutdown", "time sync", "kvp"], channels.Take(4).Select(c => c.GetProperty("device").GetString()));
        Assert.Equal([1u, 2u, 3u, 4u], channels.Take(4).Select(c => c.GetProperty("relid").GetUInt32()));
        JsonElement heartbeat = channels[0];
        // Hyper-V's heartbeat interface type, and the instance id the worker gives it.
        Assert.Equal(Guid.Parse("57164f39-9115-4e78-ab55-382f3bd5422d"), heartbeat.GetProperty("interfaceType").GetGuid());
        Assert.StartsWith("a5b1c0de-", heartbeat.GetProperty("instance").GetString());
        Assert.Equal(JsonValueKind.Null, heartbeat.GetProperty("targetVp").ValueKind);
        Assert.Equal(0, heartbeat.GetProperty("ringPages").GetInt32());
        Assert.Equal("out-b (the VM's worker)", heartbeat.GetProperty("servedBy").GetString());
        Assert.NotEmpty(heartbeat.GetProperty("state").GetString()!);
    }

    [Fact]
    public async Task Vm_migrations_json_has_the_move_with_its_passes_bytes_and_times()
    {
        using JsonDocument migrations = Json(await cluster.HvctlAsync("vm", "migrations", "-o", "json"));

        JsonElement m = Assert.Single(migrations.RootElement.EnumerateArray());
        Assert.StartsWith("out-mv-", m.GetProperty("id").GetString());
        Assert.Equal(("out-mv", "out-a", "out-b", "Completed"),
            (m.GetProperty("vm").GetString(), m.GetProperty("source").GetString(), m.GetProperty("target").GetString(), m.GetProperty("state").GetString()));
        Assert.True(m.GetProperty("pass").GetInt32() >= 1);
        Assert.Equal(0, m.GetProperty("pagesRemaining").GetInt64());
        Assert.Equal(32L << 20, m.GetProperty("memoryBytes").GetInt64());
        // Every page went at least once, less the zero pages, which are not sent.
        Assert.True(m.GetProperty("bytesSent").GetInt64() > 0);
        DateTime started = AssertUtc(m.GetProperty("startedAt"));
        DateTime ended = AssertUtc(m.GetProperty("endedAt"));
        Assert.Equal((ended - started).TotalMilliseconds, m.GetProperty("elapsedMs").GetDouble(), 0.5);
        Assert.InRange(m.GetProperty("downtimeMs").GetDouble(), 0.001, m.GetProperty("elapsedMs").GetDouble());
        Assert.Equal(JsonValueKind.Null, m.GetProperty("reason").ValueKind);
        Assert.True(m.GetProperty("bytesPerSecond").GetDouble() >= 0);
        Assert.True(m.GetProperty("dirtyPagesPerSecond").GetDouble() >= 0);
        Assert.InRange(m.GetProperty("throttlePercent").GetInt32(), 0, 99);
    }

    [Fact]
    public async Task Host_list_json_has_both_hosts_their_memory_and_the_vm_that_moved()
    {
        using JsonDocument hosts = Json(await cluster.HvctlAsync("host", "list", "-o", "json"));

        JsonElement[] all = [.. hosts.RootElement.EnumerateArray()];
        Assert.Equal(["out-a", "out-b"], all.Select(h => h.GetProperty("name").GetString()));
        Assert.All(all, h =>
        {
            Assert.NotEqual("unreachable", h.GetProperty("backend").GetString());
            Assert.True(h.GetProperty("cores").GetInt32() >= 1);
            Assert.InRange(h.GetProperty("memoryFreeBytes").GetUInt64(), 1UL, h.GetProperty("memoryBytes").GetUInt64());
            // What the host's backend offers, as its root partition advertises it (auto: the software CPU without /dev/kvm).
            JsonElement capabilities = h.GetProperty("capabilities");
            bool kvm = h.GetProperty("backend").GetString() == "kvm";
            Assert.Equal(kvm, capabilities.GetProperty("hardwareVirtualization").GetBoolean());
            Assert.True(capabilities.GetProperty("dirtyPageTracking").GetBoolean());
            Assert.Contains("userspace", capabilities.GetProperty("interruptControllers").EnumerateArray().Select(m => m.GetString()));
            if (!kvm)
                Assert.Equal(64, capabilities.GetProperty("maxVcpus").GetInt32());
        });
        Assert.Empty(all[0].GetProperty("runningVms").EnumerateArray());
        Assert.Equal(["out-mv"], all[1].GetProperty("runningVms").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task Disk_list_json_has_the_disk_its_size_in_bytes_and_its_host()
    {
        using JsonDocument disks = Json(await cluster.HvctlAsync("disk", "list", "-o", "json"));

        JsonElement disk = Assert.Single(disks.RootElement.EnumerateArray());
        Assert.Equal(("out-disk", "out-a", 8L << 20), (disk.GetProperty("name").GetString(), disk.GetProperty("host").GetString(), disk.GetProperty("sizeBytes").GetInt64()));
        Assert.InRange(AssertUtc(disk.GetProperty("createdAt")), DateTime.UtcNow.AddHours(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(JsonValueKind.Null, disk.GetProperty("baseImage").ValueKind);
    }

    [Fact]
    public async Task Switch_list_and_show_json_have_the_switch_and_the_port_of_the_vm_that_moved()
    {
        using JsonDocument list = Json(await cluster.HvctlAsync("switch", "list", "-o", "json"));
        using JsonDocument show = Json(await cluster.HvctlAsync("switch", "show", "out-lan", "-o", "json"));

        JsonElement listed = Assert.Single(list.RootElement.EnumerateArray());
        JsonElement shown = show.RootElement;
        foreach (JsonElement s in new[] { listed, shown })
        {
            Assert.Equal("out-lan", s.GetProperty("name").GetString());
            AssertUtc(s.GetProperty("createdAt"));
            Assert.Equal(0, s.GetProperty("dropped").GetInt64());
            // out-web is only defined: only the running VM's adapter is plugged in, and it answers from out-b now.
            JsonElement port = Assert.Single(s.GetProperty("ports").EnumerateArray());
            Assert.Equal(("out-mv/nic0", "out-mv", 0, "out-b"),
                (port.GetProperty("port").GetString(), port.GetProperty("vm").GetString(), port.GetProperty("nic").GetInt32(), port.GetProperty("host").GetString()));
            Assert.Matches("^00:15:5d(:[0-9a-f]{2}){3}$", port.GetProperty("mac").GetString());
            foreach (string counter in new[] { "framesIn", "bytesIn", "framesOut", "bytesOut", "dropped" })
                Assert.Equal(0, port.GetProperty(counter).GetInt64());
        }
    }

    [Fact]
    public async Task The_table_stays_the_default_and_is_what_output_table_prints()
    {
        InProcessHvctl.Result byDefault = await cluster.HvctlAsync("host", "list");
        InProcessHvctl.Result table = await cluster.HvctlAsync("host", "list", "--output", "table");

        Assert.StartsWith("HOST   BACKEND", byDefault.Succeeded());
        Assert.Equal(Columns(byDefault.Out), Columns(table.Succeeded()));

        // FREE moves as the VM runs; the other columns do not.
        static string Columns(string table) => string.Join('\n', table.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4))));
    }

    [Fact]
    public async Task Vm_create_shows_the_upload_on_stderr_and_keeps_stdout_for_its_result()
    {
        Assert.Equal("out-web: Defined\n", cluster.Create.Out);
        // Off a terminal, an upload as short as this one is one plain line: what was sent, in how long.
        Assert.Matches(@"^hello\.elf: [0-9.]+ KiB uploaded in [0-9.]+ s(, [0-9.]+ MiB/s)?\n$", cluster.Create.Error);

        // The same image again: nothing to send, and it says so.
        InProcessHvctl.Result again = await cluster.HvctlAsync("vm", "create", "out-again", "--image", OutputCluster.Guest("hello.elf"));
        Assert.Equal("out-again: Defined\n", again.Succeeded());
        Assert.Matches(@"^hello\.elf: [0-9.]+ KiB already in the image store, nothing to send\n$", again.Error);
        Assert.Equal(0, (await cluster.HvctlAsync("vm", "delete", "out-again")).ExitCode);
    }

    [Fact]
    public void Vm_migrate_off_a_terminal_prints_a_line_per_pass_not_one_per_poll()
    {
        string[] lines = cluster.Migrate.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Matches(@"^out-mv: migrating \(out-mv-", lines[0]);
        Assert.Matches(@"^out-mv: now on out-b: total [0-9.]+ms, downtime [0-9.]+ms", lines[^1]);
        string[] progress = lines[1..^1];
        Assert.Contains(progress, l => l.StartsWith("copying: pass 1, ", StringComparison.Ordinal));
        Assert.All(progress, l => Assert.Matches(@"^(copying|completed): pass [0-9]+, [0-9]+ pages remaining, ", l));
        Assert.DoesNotContain('\r', cluster.Migrate.Out);
        // Passes, plus a line every two seconds within a long one, plus the last: the status was polled every 100 ms.
        int passes = int.Parse(System.Text.RegularExpressions.Regex.Match(lines[^1], "in ([0-9]+) passes").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(progress.Length, 1, passes + 1 + 30);
    }

    private static JsonDocument Json(InProcessHvctl.Result result) => JsonDocument.Parse(result.Succeeded());

    private static DateTime AssertUtc(JsonElement time)
    {
        string text = time.GetString()!;
        Assert.EndsWith("Z", text);
        return DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
    }

    /// <summary>The field names and value kinds of a document, without the values, which move between two calls.</summary>
    private static string Shape(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Select(p => $"{p.Key}:{Shape(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Shape)) + "]",
        null => "null",
        _ => node.GetValueKind().ToString(),
    };
}
