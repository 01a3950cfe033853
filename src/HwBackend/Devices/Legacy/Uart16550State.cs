namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="Uart16550"/>, for save/restore and live migration.</summary>
public sealed record Uart16550State(
    byte InterruptEnable,
    byte LineControl,
    byte ModemControl,
    byte Scratch,
    byte DivisorLow,
    byte DivisorHigh,
    byte FifoControl,
    byte LineStatusErrors,
    byte ModemStatusDeltas,
    bool TransmitInterruptPending,
    byte LastReceived,
    byte[] ReceiveQueue);
