using Actors.Grains;

namespace Actors.Client.Tests;

public sealed class TableFormatterTests
{
    [Fact]
    public void Aligns_columns_to_the_widest_cell_without_trailing_blanks()
    {
        string table = TableFormatter.Format(["A", "BB", "C"], [["long-value", "x", "end"], ["y", "wider-cell", ""]]);

        Assert.Equal(
            "A           BB          C\n" +
            "long-value  x           end\n" +
            "y           wider-cell\n",
            table);
    }

    [Fact]
    public void Refuses_rows_of_the_wrong_width() =>
        Assert.Throws<ArgumentException>(() => TableFormatter.Format(["A", "B"], [["only-one"]]));

    [Fact]
    public void Vm_table_lists_name_state_host_memory_vcpus_sorted_by_name()
    {
        VmStatus[] vms =
        [
            Status("web2", VmState.Running, "host-b", 1UL << 30, 2),
            Status("db", VmState.Defined, null, 64UL << 20, 1),
        ];

        string[] lines = ClusterTables.FormatVms(vms).TrimEnd('\n').Split('\n');

        Assert.Equal(["NAME  STATE    HOST    MEMORY  VCPUS  HEARTBEAT", "db    Defined  -       64M     1      -", "web2  Running  host-b  1G      2      -"], lines);
    }

    [Fact]
    public void Host_table_shows_memory_in_mebibytes_the_backends_capabilities_and_running_vms()
    {
        HostInfo[] hosts =
        [
            new("host-b", "emulator", 2, 8UL << 30, (8UL << 30) - (64UL << 20) - 123, ["web2", "db"], new(false, true, ["userspace"], 64)),
            new("host-a", "kvm", 4, 16UL << 30, 16UL << 30, [], new(true, true, ["userspace", "split"], 710)),
            new("host-c", "unreachable", 0, 0, 0, []),
        ];

        string[] lines = ClusterTables.FormatHosts(hosts).TrimEnd('\n').Split('\n');

        Assert.Equal("HOST    BACKEND      CORES  MEMORY  FREE    HW-VIRT  DIRTY-LOG  IRQCHIP          MAX-VCPUS  VMS", lines[0]);
        Assert.Equal("host-a  kvm          4      16384M  16384M  yes      yes        userspace,split  710        -", lines[1]);
        Assert.Equal("host-b  emulator     2      8192M   8127M   no       yes        userspace        64         db,web2", lines[2]);
        Assert.Equal("host-c  unreachable  0      0M      0M      -        -          -                -          -", lines[3]);
    }

    [Fact]
    public void Switch_tables_list_switches_with_their_port_counts_and_a_switchs_ports_with_their_counters()
    {
        var created = new DateTimeOffset(2026, 12, 6, 20, 0, 0, TimeSpan.Zero);
        var web = new SwitchPort("web", 0, "00:15:5d:00:00:01");
        var db = new SwitchPort("db", 1, "00:15:5d:00:00:02");
        var lan = new SwitchStatus("lan", [new(db, "host-b", 3, 180, 2, 1600, 5), new(web, null, 0, 0, 0, 0, 0)], 7);

        string[] list = ClusterTables.FormatSwitches([(new SwitchInfo("lan", created), lan), (new SwitchInfo("dmz", created), new SwitchStatus("dmz", [], 0))]).TrimEnd('\n').Split('\n');
        string[] show = ClusterTables.FormatSwitch(new SwitchInfo("lan", created), lan).TrimEnd('\n').Split('\n');

        Assert.Equal(["NAME  PORTS  CREATED", "lan   2      2026-12-06 20:00:00Z", "dmz   0      2026-12-06 20:00:00Z"], list);
        Assert.Equal(
            [
                "switch lan: created 2026-12-06 20:00:00Z, 2 ports, 7 frames dropped (malformed, from unplugged ports or spoofed)",
                "PORT      MAC                HOST    FRAMES IN  BYTES IN  FRAMES OUT  BYTES OUT  DROPPED",
                "db/nic1   00:15:5d:00:00:02  host-b  3          180       2           1600       5",
                "web/nic0  00:15:5d:00:00:01  -       0          0         0           0          0",
            ],
            show);
    }

    private static VmStatus Status(string name, VmState state, string? host, ulong memory, int vcpus) =>
        new(name, state, new VmConfiguration("id", memory, vcpus, null), host, null, null, 0, 0, null);
}
