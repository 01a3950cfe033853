namespace Actors.HwBackend.Storage;

/// <summary>The operation codes (SPC-3, SBC-3) <see cref="ScsiDisk"/> implements.</summary>
internal static class ScsiOpcode
{
    public const byte TestUnitReady = 0x00;
    public const byte RequestSense = 0x03;
    public const byte Read6 = 0x08;
    public const byte Write6 = 0x0A;
    public const byte Inquiry = 0x12;
    public const byte ModeSense6 = 0x1A;
    public const byte StartStopUnit = 0x1B;
    public const byte ReadCapacity10 = 0x25;
    public const byte Read10 = 0x28;
    public const byte Write10 = 0x2A;
    public const byte Verify10 = 0x2F;
    public const byte SynchronizeCache10 = 0x35;
    public const byte ModeSense10 = 0x5A;
    public const byte Read16 = 0x88;
    public const byte Write16 = 0x8A;
    public const byte SynchronizeCache16 = 0x91;

    /// <summary>SERVICE ACTION IN(16): READ CAPACITY(16) is its service action 0x10.</summary>
    public const byte ServiceActionIn16 = 0x9E;
    public const byte ReadCapacity16ServiceAction = 0x10;

    public const byte ReportLuns = 0xA0;

    /// <summary>
    /// The CDB length of an implemented opcode, from its group code (the top three bits: 6, 10,
    /// 10, reserved, 16, 12 bytes), or 0 for an opcode this disk does not implement.
    /// </summary>
    public static int CdbLength(byte opcode) => opcode switch
    {
        TestUnitReady or RequestSense or Read6 or Write6 or Inquiry or ModeSense6 or StartStopUnit => 6,
        ReadCapacity10 or Read10 or Write10 or Verify10 or SynchronizeCache10 or ModeSense10 => 10,
        Read16 or Write16 or SynchronizeCache16 or ServiceActionIn16 => 16,
        ReportLuns => 12,
        _ => 0,
    };
}
