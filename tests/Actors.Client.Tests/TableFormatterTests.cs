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
    public void Host_table_shows_memory_in_mebibytes_and_running_vms()
    {
        HostInfo[] hosts =
        [
            new("host-b", "emulator", 2, 8UL << 30, (8UL << 30) - (64UL << 20) - 123, ["web2", "db"]),
            new("host-a", "kvm", 4, 16UL << 30, 16UL << 30, []),
        ];

        string[] lines = ClusterTables.FormatHosts(hosts).TrimEnd('\n').Split('\n');

        Assert.Equal("HOST    BACKEND   CORES  MEMORY  FREE    VMS", lines[0]);
        Assert.Equal("host-a  kvm       4      16384M  16384M  -", lines[1]);
        Assert.Equal("host-b  emulator  2      8192M   8127M   db,web2", lines[2]);
    }

    private static VmStatus Status(string name, VmState state, string? host, ulong memory, int vcpus) =>
        new(name, state, new VmConfiguration("id", memory, vcpus, null), host, null, null, 0, 0, null);
}
