using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// vCPUs on VT-x/AMD-V through Linux KVM. Guest RAM is registered with KVM straight from the machine's
/// <see cref="Memory.GuestRam"/>, so devices, loaders and migration see the same bytes the guest does.
/// The interrupt controllers stay the platform's device models (<see cref="InterruptControllerMode.Userspace"/>):
/// KVM runs the instruction stream and leaves port I/O, MMIO, HLT and the APIC's MSRs to us.
/// </summary>
public sealed class KvmBackend : IHypervisorBackend, IDisposable
{
    private readonly KvmDevice _device;

    private KvmBackend(KvmDevice device)
    {
        _device = device;
        int maxProcessors = Math.Max(device.CheckExtension(KvmCapability.MaxVcpus), device.CheckExtension(KvmCapability.NrVcpus));
        Capabilities = new BackendCapabilities(
            BackendKind.Kvm, Environment.ProcessorCount, HardwareVirtualization: true, DirtyPageTracking: true,
            MaxProcessorsPerMachine: Math.Max(1, maxProcessors), InterruptControllers: InterruptControllerMode.Userspace);
        SupportedCpuid = device.SupportedCpuid();
        VcpuMmapSize = device.VcpuMmapSize;
    }

    public string Name => "kvm";

    public BackendCapabilities Capabilities { get; }

    internal KvmCpuidEntry2[] SupportedCpuid { get; }

    internal int VcpuMmapSize { get; }

    internal int DeviceFd => _device.Fd;

    /// <summary>Opens <c>/dev/kvm</c>; throws <see cref="KvmException"/> with a one-line reason when this host cannot run KVM guests.</summary>
    public static KvmBackend Open() => new(KvmDevice.Open());

    /// <summary>The backend, or null with the reason this host has none (for <c>--backend auto</c>).</summary>
    public static KvmBackend? TryOpen(out string? reason)
    {
        try
        {
            reason = null;
            return Open();
        }
        catch (KvmException e)
        {
            reason = e.Message;
            return null;
        }
    }

    public IVirtualMachine CreateMachine(MachineConfiguration configuration) => new KvmMachine(this, configuration);

    public void Dispose() => _device.Dispose();
}
