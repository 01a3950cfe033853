using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>An Iced <see cref="CodeWriter"/> that collects bytes into a reusable buffer.</summary>
internal sealed class ByteCodeWriter : CodeWriter
{
    private readonly List<byte> _bytes = new(32);

    public int Count => _bytes.Count;

    public override void WriteByte(byte value) => _bytes.Add(value);

    public void Clear() => _bytes.Clear();

    public byte[] ToArray() => [.. _bytes];
}
