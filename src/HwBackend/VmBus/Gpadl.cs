namespace Actors.HwBackend.VmBus;

/// <summary>
/// A guest physical address descriptor list: guest pages the guest lends a channel (its ring
/// buffers), named by a handle the guest chose. It arrives in a GPADL_HEADER and as many
/// GPADL_BODY messages as its pages need; <see cref="Received"/> counts the pages so far.
/// </summary>
public sealed record Gpadl(uint Handle, uint ChannelId, uint ByteCount, uint ByteOffset, ulong[] Pages, int Received)
{
    public bool Complete => Received == Pages.Length;
}
