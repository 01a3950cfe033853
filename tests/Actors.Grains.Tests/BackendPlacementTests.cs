using Actors.Grains.Partitions;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>A VM's required or preferred backend, as placement, a migration's target and its definition apply it.</summary>
public sealed class BackendPlacementTests
{
    // The roomiest host runs the software CPU; the KVM hosts have less room, k2 the least.
    private static readonly HostInfo[] Mixed =
    [
        new("e1", BackendPlacement.Emulator, 2, 8UL << 30, 6UL << 30, []),
        new("e2", BackendPlacement.Emulator, 2, 8UL << 30, 5UL << 30, []),
        new("k1", BackendPlacement.Kvm, 2, 8UL << 30, 3UL << 30, []),
        new("k2", BackendPlacement.Kvm, 2, 8UL << 30, 1UL << 30, []),
    ];

    private static readonly HostInfo[] SoftwareOnly = [Mixed[0], Mixed[1]];

    private static VmConfiguration Config(ulong memory, BackendPlacement? backend, string? host = null) =>
        new(new string('0', 64), memory, 1, host, Backend: backend);

    [Fact]
    public void Without_a_backend_the_roomiest_host_of_any_backend_wins() =>
        Assert.Equal("e1", HostChooser.Choose("vm", Config(1UL << 20, null), Mixed));

    [Fact]
    public void A_required_backend_takes_the_roomiest_host_of_that_backend_only()
    {
        Assert.Equal("k1", HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Require("kvm")), Mixed));
        Assert.Equal("e1", HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Require("emulator")), Mixed));
        // Room is still room: the KVM hosts have at most 3 GiB, and the software hosts' room does not count.
        Assert.Equal(
            "no host has 4096 MiB free for VM 'vm' (most is 3072 MiB on 'k1')",
            Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(4UL << 30, BackendPlacement.Require("kvm")), Mixed)).Message);
    }

    [Fact]
    public void A_required_backend_no_host_runs_is_refused_with_one_line_naming_it_and_what_the_hosts_run()
    {
        Assert.Equal(
            "VM 'vm' requires the kvm backend, which no host in the cluster runs (e1, e2 run emulator)",
            Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Require("kvm")), SoftwareOnly)).Message);
        Assert.Equal(
            "VM 'vm' requires the emulator backend, which no host in the cluster runs (k1, k2 run kvm)",
            Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Require("emulator")), [Mixed[2], Mixed[3]])).Message);
        Assert.Equal(
            "VM 'vm' requires the kvm backend, and no hosts have joined the cluster",
            Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Require("kvm")), [])).Message);
    }

    [Fact]
    public void A_named_host_of_another_backend_than_the_required_one_is_refused()
    {
        Assert.Equal("k2", HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Require("kvm"), "k2"), Mixed));
        Assert.Equal(
            "VM 'vm' cannot start on host 'e1': it requires the kvm backend, and host 'e1' runs emulator",
            Assert.Throws<HypervisorException>(() => HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Require("kvm"), "e1"), Mixed)).Message);
    }

    [Fact]
    public void A_preferred_backend_wins_over_room_while_one_of_its_hosts_has_room_and_gives_way_when_none_has()
    {
        Assert.Equal("k1", HostChooser.Choose("vm", Config(1UL << 30, BackendPlacement.Prefer("kvm")), Mixed));
        // k1 has 3 GiB: a 2 GiB VM still goes there, a 4 GiB one to the roomiest host of any backend.
        Assert.Equal("k1", HostChooser.Choose("vm", Config(2UL << 30, BackendPlacement.Prefer("kvm")), Mixed));
        Assert.Equal("e1", HostChooser.Choose("vm", Config(4UL << 30, BackendPlacement.Prefer("kvm")), Mixed));
        // No KVM host at all: any host.
        Assert.Equal("e1", HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Prefer("kvm")), SoftwareOnly));
        Assert.Equal("e1", HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Prefer("emulator")), Mixed));
        // A named host is a stronger wish than a backend preference.
        Assert.Equal("e2", HostChooser.Choose("vm", Config(1UL << 20, BackendPlacement.Prefer("kvm"), "e2"), Mixed));
    }

    [Fact]
    public void An_enlightened_VM_goes_where_its_backend_wish_says_as_any_other()
    {
        VmConfiguration enlightened = Config(1UL << 20, BackendPlacement.Prefer("kvm")) with { Enlightened = true };
        Assert.Equal("k1", HostChooser.Choose("vm", enlightened, Mixed));
        Assert.Null((enlightened with { Backend = BackendPlacement.Require("kvm") }).Validate());
    }

    [Fact]
    public void A_migration_target_or_a_worker_of_another_backend_than_the_required_one_refuses_the_VM()
    {
        VmConfiguration software = Config(1UL << 20, BackendPlacement.Require("emulator"));
        Assert.Equal("it requires the emulator backend, and host 'k1' runs kvm", BackendRules.RefusalOn(software, "k1", "kvm"));
        Assert.Null(BackendRules.RefusalOn(software, "e2", "emulator"));
        // A preference or no wish at all admits any host.
        Assert.Null(BackendRules.RefusalOn(Config(1UL << 20, BackendPlacement.Prefer("emulator")), "k1", "kvm"));
        Assert.Null(BackendRules.RefusalOn(Config(1UL << 20, null), "k1", "kvm"));
    }

    [Theory]
    [InlineData("kvm", "kvm", true)]
    [InlineData("emulator", "emulator", true)]
    [InlineData("prefer:kvm", "kvm", false)]
    [InlineData("prefer:emulator", "emulator", false)]
    public void The_text_forms_read_and_print_the_same(string text, string backend, bool required)
    {
        Assert.True(BackendPlacement.TryParse(text, out BackendPlacement? placement, out string? problem), problem);
        Assert.Equal(new BackendPlacement(backend, required), placement);
        Assert.Equal(text, placement!.ToString());
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("KVM")]
    [InlineData("prefer:")]
    [InlineData("prefer:quantum")]
    [InlineData("")]
    public void Anything_else_is_refused_in_one_line(string text)
    {
        Assert.False(BackendPlacement.TryParse(text, out BackendPlacement? placement, out string? problem));
        Assert.Null(placement);
        Assert.Equal($"unknown backend '{text}': use kvm or emulator to require one, prefer:kvm or prefer:emulator to prefer one", problem);
        Assert.Equal("unknown backend 'quantum': use kvm or emulator", Config(1UL << 20, new BackendPlacement("quantum", true)).Validate());
    }
}
