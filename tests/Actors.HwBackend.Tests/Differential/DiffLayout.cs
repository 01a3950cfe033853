namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Addresses shared by the host run and the guest run. The data window sits at the same virtual
/// address on both sides, so base registers and string pointers need no translation and memory
/// can be compared byte for byte.
/// </summary>
internal static class DiffLayout
{
    /// <summary>Host page holding the native executor's input/output block (absolute disp32 addressing needs it below 2 GiB).</summary>
    public const ulong NativeContext = 0x3E00_0000;

    /// <summary>
    /// Start of the host mapping that holds the data window. The first <see cref="GuardBytes"/> are never
    /// compared: signals are blocked while a test runs, but should one still be delivered with RSP
    /// inside the window, its frame lands in mapped memory rather than in a hole.
    /// </summary>
    public const ulong HostRegion = 0x3F00_0000;

    public const ulong GuardBytes = 0x4_0000;

    /// <summary>The compared data window (two pages, so page-crossing accesses are exercised).</summary>
    public const ulong DataBase = HostRegion + GuardBytes;

    public const int DataSize = 0x2000;

    public const ulong DataEnd = DataBase + DataSize;

    /// <summary>
    /// Initial RSP of every test: room below for pushes and calls, above for pops, RET imm16 and LEAVE,
    /// all inside the compared window.
    /// </summary>
    public const ulong StackTop = DataBase + 0x80;

    /// <summary>
    /// Host page holding the native thunk. The test instruction sits at <see cref="CodeAddress"/>
    /// on the host and in the guest alike, so RIP-relative operands, branch targets and return
    /// addresses are the same numbers on both sides.
    /// </summary>
    public const ulong NativeThunk = 0x3D00_0000;

    /// <summary>Virtual address of the instruction under test (host slot and guest code).</summary>
    public const ulong CodeAddress = NativeThunk + 0x800;

    /// <summary>Guest-physical page backing the code page at <see cref="NativeThunk"/>.</summary>
    public const ulong GuestCodePhysical = 0x10000;

    /// <summary>Guest-physical backing of the data window.</summary>
    public const ulong GuestDataPhysical = 0x20000;

    public const ulong GuestPml4 = 0x1000;
    public const ulong GuestPdpt = 0x2000;
    public const ulong GuestPd = 0x3000;
    public const ulong GuestPtLow = 0x4000;
    public const ulong GuestPtData = 0x5000;
    public const ulong GuestPtCode = 0xA000;
    public const ulong GuestGdt = 0x6000;
    public const ulong GuestIdt = 0x8000;
    public const ulong GuestExceptionStubs = 0x9000;

    public const ulong GuestMemoryBytes = 2 * 1024 * 1024;
}
