using Actors.Grains.Partitions;
using Xunit;

namespace Actors.Grains.Tests;

public sealed class HostChooserTests
{
    private static readonly HostInfo[] Hosts =
    [
        new("a", "emulator", 2, 8UL << 30, 1UL << 30, []),
        new("b", "emulator", 2, 8UL << 30, 4UL << 30, []),
        new("c", "emulator", 2, 8UL << 30, 4UL << 30, []),
    ];

    private static VmConfiguration Config(ulong memory, string? host = null) => new(new string('0', 64), memory, 1, host);

    [Fact]
    public void Without_a_preference_the_roomiest_host_wins_and_ties_go_by_name() =>
        Assert.Equal("b", HostChooser.Choose("vm", Config(1UL << 20), Hosts));

    [Fact]
    public void A_preferred_host_is_taken_even_if_others_have_more_room() =>
        Assert.Equal("a", HostChooser.Choose("vm", Config(1UL << 20, "a"), Hosts));

    [Fact]
    public void Refusals_name_the_host_and_the_memory()
    {
        Assert.Equal("unknown host 'z'", Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(1UL << 20, "z"), Hosts)).Message);
        Assert.Contains("host 'a' has 1024 MiB free; VM 'vm' needs 2048 MiB",
            Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(2UL << 30, "a"), Hosts)).Message);
        Assert.Contains("no host has 5120 MiB free",
            Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(5UL << 30), Hosts)).Message);
        Assert.Contains("no hosts", Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(1UL << 20), [])).Message);
    }

    [Fact]
    public void An_enlightened_VM_goes_where_a_plain_one_would_whatever_the_hosts_backend()
    {
        HostInfo[] hosts = [new("k", BackendPlacement.Kvm, 2, 8UL << 30, 6UL << 30, []), .. Hosts];
        VmConfiguration enlightened = Config(1UL << 20) with { Enlightened = true };

        // The roomiest host runs KVM, which offers the Hyper-V interface as the software CPU does.
        Assert.Equal("k", HostChooser.Choose("vm", Config(1UL << 20), hosts));
        Assert.Equal("k", HostChooser.Choose("vm", enlightened, hosts));
        Assert.Equal("k", HostChooser.Choose("vm", enlightened with { PreferredHost = "k" }, hosts));
        Assert.Equal("k", HostChooser.Choose("vm", enlightened, [hosts[0]]));
    }
}
