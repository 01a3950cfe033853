using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Tests.Memory;

/// <summary>
/// Guest memory laid out like the emulator's machines (RAM from 0, the platform's APIC windows as
/// MMIO) without needing a CPU, so loaders and devices are tested on their own.
/// </summary>
internal sealed class TestGuestMemory : IDisposable
{
    public TestGuestMemory(ulong ramBytes = 16 << 20)
    {
        Ram = new GuestRam(ramBytes);
        Map = new GuestPhysicalMap(Ram);
        Map.AddRam("ram", 0, ramBytes, 0);
        foreach (MmioWindow window in PcMachine.MemoryLayout(ramBytes).Mmio)
            Map.AddMmio(window.Name, window.Base, window.Size);
    }

    public GuestRam Ram { get; }

    public GuestPhysicalMap Map { get; }

    public byte[] Read(ulong gpa, int length)
    {
        var buffer = new byte[length];
        Map.Read(gpa, buffer);
        return buffer;
    }

    /// <summary>Fills RAM with a pattern so tests can tell "zeroed by the loader" from "was zero anyway".</summary>
    public void Poison(byte value = 0xCC) => Ram.Span(0, (int)Math.Min(Ram.Size, int.MaxValue)).Fill(value);

    public void Dispose() => Ram.Dispose();
}
