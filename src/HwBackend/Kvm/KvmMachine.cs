using System.Numerics;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Kvm.Interop;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// A partition's hardware on KVM: one KVM VM whose memory slots are the platform's RAM regions over one
/// <see cref="GuestRam"/> block (every address outside them exits as MMIO), and one <see cref="KvmProcessor"/>
/// per vCPU. The dirty log joins what KVM saw the guest write with what the host wrote through
/// <see cref="GuestPhysicalMap"/> (devices, loaders, incoming migration), which KVM cannot see.
/// </summary>
public sealed unsafe class KvmMachine : IVirtualMachine
{
    // Where KVM keeps the three pages it needs for real mode on VT-x without unrestricted guest:
    // the top of the 32-bit hole below the firmware, where the platform puts nothing (as QEMU does).
    private const long TssAddress = 0xFEFF_D000;

    private readonly GuestRam _ram;
    private readonly KvmProcessor[] _processors;
    private readonly RamRegion[] _slots;
    private readonly ulong[] _slotScratch;
    // Pages written (by the guest or the host) that no CollectDirtyPages has handed out yet: counting fetches too.
    private readonly ulong[] _pending;
    private readonly ulong[] _hostScratch;
    private readonly Lock _dirtyLock = new();
    private int _vmFd;

    internal KvmMachine(KvmBackend backend, MachineConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.ProcessorCount < 1)
            throw new ArgumentOutOfRangeException(nameof(configuration), "a machine needs at least one virtual processor");
        if (configuration.InterruptControllers != InterruptControllerMode.Userspace)
            throw new ArgumentException($"the KVM backend runs {InterruptControllerMode.Userspace} interrupt controllers only, not {configuration.InterruptControllers}", nameof(configuration));
        if (configuration.ProcessorCount > backend.Capabilities.MaxProcessorsPerMachine)
            throw new ArgumentOutOfRangeException(nameof(configuration), $"KVM on this host runs at most {backend.Capabilities.MaxProcessorsPerMachine} vCPUs per machine");

        Clock = configuration.Clock;
        _ram = new GuestRam(configuration.Memory.RamBytes);
        Memory = GuestPhysicalMap.For(_ram, configuration.Memory);
        _slots = [.. configuration.Memory.Ram];
        _pending = new ulong[Memory.DirtyLog.WordCount];
        _hostScratch = new ulong[Memory.DirtyLog.WordCount];
        _slotScratch = new ulong[_slots.Length == 0 ? 0 : _slots.Max(s => (int)((s.Size / GuestRam.PageSize + 63) / 64))];
        _processors = new KvmProcessor[configuration.ProcessorCount];
        try
        {
            _vmFd = CreateVm(backend.DeviceFd);
            for (int i = 0; i < _slots.Length; i++)
                SetSlot(i, _slots[i]);
            KvmDevice.Checked(LibC.Ioctl(_vmFd, KvmIoctls.SetTssAddr, unchecked((nint)TssAddress)), "KVM_SET_TSS_ADDR");
            MsrRouting.Apply(_vmFd);
            for (int i = 0; i < _processors.Length; i++)
                _processors[i] = new KvmProcessor(this, backend, _vmFd, i);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public GuestPhysicalMap Memory { get; }

    public IPlatformClock Clock { get; }

    public IReadOnlyList<IVirtualProcessor> Processors => _processors;

    /// <summary>The host's TSC rate, which every vCPU's TSC runs at (KVM_GET_TSC_KHZ; no TSC scaling is asked for).</summary>
    public long TscHz => _processors[0].TscHz;

    public int DirtyPageWords => Memory.DirtyLog.WordCount;

    public ulong CountDirtyPages()
    {
        lock (_dirtyLock)
        {
            FetchDirtyPages();
            ulong count = 0;
            foreach (ulong word in _pending)
                count += (ulong)BitOperations.PopCount(word);
            return count;
        }
    }

    public void CollectDirtyPages(Span<ulong> destination)
    {
        lock (_dirtyLock)
        {
            // KVM_GET_DIRTY_LOG clears its log and write-protects the pages again before it returns, so a
            // guest write after this point is in the next collection.
            FetchDirtyPages();
            _pending.CopyTo(destination);
            Array.Clear(_pending);
        }
    }

    /// <summary>Moves both logs, KVM's and the host's, into <see cref="_pending"/>.</summary>
    private void FetchDirtyPages()
    {
        FetchKvmDirtyLog();
        Memory.DirtyLog.FetchAndClear(_hostScratch);
        for (int i = 0; i < _pending.Length; i++)
            _pending[i] |= _hostScratch[i];
    }

    /// <summary>ORs every slot's KVM dirty bitmap into <see cref="_pending"/>, indexed by RAM page.</summary>
    private void FetchKvmDirtyLog()
    {
        fixed (ulong* scratch = _slotScratch)
        {
            for (int slot = 0; slot < _slots.Length; slot++)
            {
                var log = new KvmDirtyLog { Slot = (uint)slot, DirtyBitmap = (ulong)scratch };
                KvmDevice.Checked(LibC.Ioctl(_vmFd, KvmIoctls.GetDirtyLog, &log), "KVM_GET_DIRTY_LOG");
                ulong firstPage = _slots[slot].RamOffset / GuestRam.PageSize;
                int words = (int)((_slots[slot].Size / GuestRam.PageSize + 63) / 64);
                for (int w = 0; w < words; w++)
                {
                    for (ulong bits = scratch[w]; bits != 0; bits &= bits - 1)
                    {
                        ulong page = firstPage + ((ulong)w * 64) + (ulong)BitOperations.TrailingZeroCount(bits);
                        _pending[page / 64] |= 1UL << (int)(page % 64);
                    }
                }
            }
        }
    }

    private static int CreateVm(int deviceFd)
    {
        while (true)
        {
            // KVM_CREATE_VM can fail with EINTR while the kernel sets up the VM's MMU; try again.
            int fd = LibC.Ioctl(deviceFd, KvmIoctls.CreateVm, 0);
            if (fd >= 0)
                return fd;
            if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != LibC.EINTR)
                return KvmDevice.Checked(fd, "KVM_CREATE_VM");
        }
    }

    private void SetSlot(int slot, RamRegion region)
    {
        var memory = new KvmUserspaceMemoryRegion
        {
            Slot = (uint)slot,
            Flags = KvmUserspaceMemoryRegion.LogDirtyPages,
            GuestPhysAddr = region.Base,
            MemorySize = region.Size,
            UserspaceAddr = (ulong)(_ram.HostPointer + region.RamOffset),
        };
        KvmDevice.Checked(LibC.Ioctl(_vmFd, KvmIoctls.SetUserMemoryRegion, &memory), $"KVM_SET_USER_MEMORY_REGION ({region.Name} at 0x{region.Base:x})");
    }

    public void Dispose()
    {
        foreach (KvmProcessor? processor in _processors)
            processor?.Dispose();
        if (_vmFd > 0)
        {
            LibC.Close(_vmFd);
            _vmFd = -1;
        }

        _ram.Dispose();
    }
}
