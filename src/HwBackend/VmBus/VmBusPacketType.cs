namespace Actors.HwBackend.VmBus;

/// <summary>The kinds of ring packets the devices here send or read (the descriptor's type).</summary>
public enum VmBusPacketType : ushort
{
    /// <summary>Data carried in the packet itself.</summary>
    DataInband = 6,

    /// <summary>Data in a buffer the guest lent the device (a transfer page set), named by byte ranges after the descriptor.</summary>
    DataUsingTransferPages = 7,

    /// <summary>Data in guest pages listed after the descriptor (one or more ranges, each an offset, a length and its pages).</summary>
    DataUsingGpaDirect = 9,

    /// <summary>The answer to a request the other side sent with its completion flag set, carrying that request's transaction id.</summary>
    Completion = 11,
}
