namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// Whether an instruction's arithmetic flags are read before they are overwritten, as a type, so that a
/// translated block that overwrites them unread specialises the instruction without computing them.
/// The interpreter always uses <see cref="FlagsLive"/>: it does not look ahead.
/// </summary>
internal interface IFlagsMode
{
    static abstract bool Live { get; }
}

internal readonly struct FlagsLive : IFlagsMode
{
    public static bool Live => true;
}

internal readonly struct FlagsDead : IFlagsMode
{
    public static bool Live => false;
}
