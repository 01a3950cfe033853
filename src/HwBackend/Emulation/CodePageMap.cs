namespace Actors.HwBackend.Emulation;

/// <summary>
/// One flag per RAM page: does any vCPU hold decoded code from it? Writes to flagged pages take the
/// slow path, which drops that code (self-modifying code, loaders, migration restores).
/// </summary>
internal sealed class CodePageMap
{
    private readonly byte[] _flags;

    public CodePageMap(ulong pageCount) => _flags = new byte[pageCount];

    public bool HasCode(ulong page) => page < (ulong)_flags.Length && Volatile.Read(ref _flags[page]) != 0;

    /// <summary>Flags the page; true when it was not flagged before.</summary>
    public bool Mark(ulong page) => page < (ulong)_flags.Length && Interlocked.Exchange(ref _flags[page], 1) == 0;

    // Every host write to guest RAM asks: a page without code (nearly all) costs a read, not an atomic exchange.
    public bool Clear(ulong page) => page < (ulong)_flags.Length && Volatile.Read(ref _flags[page]) != 0 && Interlocked.Exchange(ref _flags[page], 0) != 0;
}
