using System.Globalization;
using Actors.HwBackend.Kvm;

namespace Actors.Client.Tests;

/// <summary>A silo's <c>--backend</c>: KVM only where /dev/kvm opens, refused with one line elsewhere.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed class BackendChoiceTests
{
    [Fact]
    public async Task Backend_kvm_on_a_host_without_KVM_is_refused_with_one_line_and_exit_code_2()
    {
        KvmBackend? kvm = KvmBackend.TryOpen(out string? whyNot);
        kvm?.Dispose();
        int[] ports = LoopbackPorts.Free(2);
        string[] args = ["--host", "kvm-host", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1]), "--backend", "kvm"];
        if (kvm is not null)
        {
            // A host with KVM runs the silo on it; the refusal is for hosts without.
            await using SiloProcess silo = SiloProcess.Start(args, new Dictionary<string, string>());
            return;
        }

        (int exitCode, string error) = await SiloProcess.RunToExitAsync(args);

        Assert.Equal(2, exitCode);
        Assert.Equal($"Actors.Silo: --backend kvm: {whyNot}; use --backend emulator or auto", error.Trim());
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
