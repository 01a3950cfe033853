namespace Actors.HwBackend.Enlightenments;

/// <summary>SynIC message types (TLFS, HV_MESSAGE_TYPE). Types with bit 31 set come from the hypervisor itself.</summary>
public static class HvMessageType
{
    public const uint None = 0;
    public const uint VmBus = 1;
    public const uint TimerExpired = 0x8000_0010;
}
