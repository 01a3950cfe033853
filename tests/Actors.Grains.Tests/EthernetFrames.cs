namespace Actors.Grains.Tests;

/// <summary>Ethernet frames for switch tests: a header (destination, source, IPv4's type) and a payload of one repeated byte that tells frames apart.</summary>
public static class EthernetFrames
{
    public const string Broadcast = "ff:ff:ff:ff:ff:ff";

    public static byte[] Frame(string destination, string source, byte mark, int length = 64)
    {
        var frame = new byte[length];
        Address(destination).CopyTo(frame, 0);
        Address(source).CopyTo(frame, 6);
        frame[12] = 0x08;
        frame.AsSpan(14).Fill(mark);
        return frame;
    }

    public static FrameBatch Batch(params byte[][] frames) => new([.. frames.SelectMany(f => f)], [.. frames.Select(f => f.Length)]);

    /// <summary>The payload byte of a frame made by <see cref="Frame"/>.</summary>
    public static byte MarkOf(byte[] frame) => frame[^1];

    private static byte[] Address(string text) => Convert.FromHexString(text.Replace(":", string.Empty, StringComparison.Ordinal));
}
