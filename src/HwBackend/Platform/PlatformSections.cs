using Actors.HwBackend.Devices.Acpi;
using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Devices.Legacy;

namespace Actors.HwBackend.Platform;

/// <summary>
/// The platform's sections of a snapshot, decoded and checked against the machine by
/// <see cref="PcPlatform.ReadSnapshot"/>: what <see cref="PcPlatform.Restore"/> applies once the
/// rest of the snapshot has passed its checks too.
/// </summary>
internal sealed record PlatformSections(
    PlatformClockState Clock,
    Pic8259State Pic,
    Pit8254State Pit,
    PortBState PortB,
    CmosRtcState Rtc,
    Uart16550State Uart,
    FwCfgState FwCfg,
    ResetControlState Reset,
    KeyboardControllerState KeyboardController,
    AcpiPowerManagementState PowerManagement,
    IoApicState IoApic,
    LocalApicState[] LocalApics);
