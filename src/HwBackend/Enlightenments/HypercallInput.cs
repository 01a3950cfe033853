namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// A hypercall input value (TLFS, "Hypercall Inputs"): bits 15:0 the call code, 16 fast, 26:17 the
/// variable header size in 8-byte units, 31 nested, 43:32 the rep count, 59:48 the rep start index;
/// every other bit is reserved and must be zero.
/// </summary>
public readonly record struct HypercallInput(ulong Value)
{
    private const ulong ReservedBits = (0xFUL << 27) | (0xFUL << 44) | (0xFUL << 60);

    public ushort CallCode => (ushort)Value;

    public bool Fast => (Value & (1UL << 16)) != 0;

    public int VariableHeaderQwords => (int)((Value >> 17) & 0x3FF);

    public bool Nested => (Value & (1UL << 31)) != 0;

    public int RepCount => (int)((Value >> 32) & 0xFFF);

    public int RepStartIndex => (int)((Value >> 48) & 0xFFF);

    public bool HasReservedBits => (Value & ReservedBits) != 0;

    /// <summary>The result value: the status in bits 15:0, the reps completed in bits 43:32.</summary>
    public static ulong Result(HvStatus status, int repsCompleted = 0) => (ushort)status | ((ulong)(uint)repsCompleted << 32);
}
