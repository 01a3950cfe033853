using System.Diagnostics;
using System.Text.Json;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// <c>--backend</c> on <c>vm create</c> and <c>run</c> against two silo processes that run the software CPU
/// (<c>--backend emulator</c>, whatever the machine has), driven by the real hvctl: a VM that requires KVM is refused
/// with one line, one that requires the software CPU runs and moves between them, one that prefers KVM falls back.
/// Refusing a migration to a host of another backend needs a KVM host; BackendPlacementTests covers that rule.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class BackendPlacementProcessTests
{
    [Fact]
    public async Task A_required_backend_no_host_runs_is_refused_and_the_others_place_and_move_vms()
    {
        int[] ports = LoopbackPorts.Free(4);
        string gateway = $"127.0.0.1:{ports[1]}";
        using Process a = Launch(WithBackend(SiloStartInfo("pl-a", ports[0], ports[1]), "emulator"));
        using Process b = Launch(WithBackend(SiloStartInfo("pl-b", ports[2], ports[3], joinSiloPort: ports[0]), "emulator"));
        try
        {
            await WaitForGatewayAsync(gateway, "pl-a");
            await WaitForGatewayAsync(gateway, "pl-b");

            // Each host advertises what its backend offers.
            ProcessResult hosts = await HvctlAsync("host", "list", "--gateway", gateway);
            Assert.Equal(0, hosts.ExitCode);
            Assert.Matches(@"^HOST +BACKEND +CORES +MEMORY +FREE +HW-VIRT +DIRTY-LOG +IRQCHIP +MAX-VCPUS +VMS\n", hosts.Out);
            Assert.Matches(@"\npl-a +emulator +\d+ +\d+M +\d+M +no +yes +userspace +64 +-\n", hosts.Out);
            using (JsonDocument json = JsonDocument.Parse((await HvctlAsync("host", "list", "-o", "json", "--gateway", gateway)).Out))
            {
                JsonElement capabilities = json.RootElement[1].GetProperty("capabilities");
                Assert.Equal(
                    "{\"hardwareVirtualization\":false,\"dirtyPageTracking\":true,\"interruptControllers\":[\"userspace\"],\"maxVcpus\":64}",
                    JsonSerializer.Serialize(capabilities));
            }

            // No host runs KVM: refused in one line, before any upload, and nothing is defined.
            ProcessResult kvm = await HvctlAsync("vm", "create", "pl-kvm", "--image", Guest("hello.elf"), "--backend", "kvm", "--gateway", gateway);
            Assert.Equal(
                (1, "hvctl: VM 'pl-kvm' requires the kvm backend, which no host in the cluster runs (pl-a, pl-b run emulator)"),
                (kvm.ExitCode, kvm.Error.Trim()));
            Assert.DoesNotContain("pl-kvm", (await HvctlAsync("vm", "list", "--gateway", gateway)).Out);
            ProcessResult run = await HvctlAsync("run", Guest("hello.elf"), "--backend", "kvm", "--gateway", gateway);
            Assert.Equal(1, run.ExitCode);
            Assert.Matches(@"^hvctl: VM '[^']+' requires the kvm backend, which no host in the cluster runs \(pl-a, pl-b run emulator\)$", run.Error.Trim());

            // Required and there: it runs on a software host, shows its requirement, and moves to the other one.
            Assert.Equal(0, (await HvctlAsync("vm", "create", "pl-emu", "--image", Guest("migrate-verify.elf"), "--memory", "32M", "--host", "pl-a",
                "--backend", "emulator", "--fw-cfg", "opt/actors/passes=0", "--gateway", gateway)).ExitCode);
            ProcessResult started = await HvctlAsync("vm", "start", "pl-emu", "--gateway", gateway);
            Assert.Equal((0, "pl-emu: Running on pl-a"), (started.ExitCode, started.Out.Trim()));
            Assert.Matches(@"\nbackend: +emulator \(required\)\n", (await HvctlAsync("vm", "show", "pl-emu", "--gateway", gateway)).Out);
            using (JsonDocument shown = JsonDocument.Parse((await HvctlAsync("vm", "show", "pl-emu", "-o", "json", "--gateway", gateway)).Out))
                Assert.Equal("emulator", shown.RootElement.GetProperty("backend").GetString());
            ProcessResult moved = await HvctlAsync("vm", "migrate", "pl-emu", "--to", "pl-b", "--gateway", gateway);
            Assert.True(moved.ExitCode == 0, $"exit {moved.ExitCode}: {moved.Out} {moved.Error}");
            Assert.Contains("pl-emu: now on pl-b", moved.Out);

            // Preferred and not there: any host runs it.
            Assert.Equal(0, (await HvctlAsync("vm", "create", "pl-pref", "--image", Guest("hello.elf"), "--memory", "16M", "--backend", "prefer:kvm", "--gateway", gateway)).ExitCode);
            Assert.Matches(@"\nbackend: +kvm \(preferred\)\n", (await HvctlAsync("vm", "show", "pl-pref", "--gateway", gateway)).Out);
            ProcessResult preferred = await HvctlAsync("vm", "start", "pl-pref", "--gateway", gateway);
            Assert.Matches(@"^pl-pref: (Running|Off) on pl-[ab]$", preferred.Out.Trim());

            // A VM without a wish says so.
            Assert.Equal(0, (await HvctlAsync("vm", "create", "pl-any", "--image", Guest("hello.elf"), "--gateway", gateway)).ExitCode);
            Assert.Matches(@"\nbackend: +any\n", (await HvctlAsync("vm", "show", "pl-any", "--gateway", gateway)).Out);
        }
        finally
        {
            b.Kill(entireProcessTree: true);
            a.Kill(entireProcessTree: true);
            await b.WaitForExitAsync();
            await a.WaitForExitAsync();
        }
    }

    private static ProcessStartInfo WithBackend(ProcessStartInfo start, string backend)
    {
        start.ArgumentList.Add("--backend");
        start.ArgumentList.Add(backend);
        return start;
    }
}
