using Actors.HwBackend.Devices.Apic;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>An 8259 stand-in: the test sets whether INTR is up and which vector the INTA cycle returns.</summary>
internal sealed class FakeExternalInterruptSource : IExternalInterruptSource
{
    public bool InterruptPending { get; set; }

    public byte Vector { get; set; } = 0x20;

    public int Acknowledges { get; private set; }

    public byte Acknowledge()
    {
        Acknowledges++;
        InterruptPending = false;
        return Vector;
    }
}
