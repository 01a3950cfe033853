using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Devices.Legacy;

namespace Actors.HwBackend.Platform;

/// <summary>Every platform device's state and the machine's clock: with RAM and the vCPUs' <see cref="VpState"/>, a whole machine.</summary>
public sealed record PlatformState
{
    public long ClockNanoseconds { get; init; }
    public required Pic8259State Pic { get; init; }
    public required Pit8254State Pit { get; init; }
    public required PortBState PortB { get; init; }
    public required CmosRtcState Rtc { get; init; }
    public required Uart16550State Uart { get; init; }
    public required FwCfgState FwCfg { get; init; }
    public required ResetControlState Reset { get; init; }
    public required IoApicState IoApic { get; init; }
    public required LocalApicState[] LocalApics { get; init; }
}
