using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Snapshots;

/// <summary>
/// Appends one section's fields, little-endian, to the snapshot a <see cref="SnapshotWriter"/>
/// builds. Fixed-size arrays are written without a length (the section's version fixes it), so
/// writing one of another size is refused rather than producing a snapshot nobody can read.
/// </summary>
public sealed class SnapshotSectionWriter
{
    // Rented: a switch-over encodes while the guest is stopped, and a fresh array of the console
    // tail's size each time would be garbage on the source's heap at the worst moment.
    private byte[] _buffer;
    private int _position;

    internal SnapshotSectionWriter(int capacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(capacity);
    }

    /// <summary>The id of the section being written, for messages.</summary>
    public string Section { get; internal set; } = "";

    internal int Position => _position;

    internal ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _position);

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(sizeof(ushort)), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(sizeof(uint)), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(sizeof(int)), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(sizeof(ulong)), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(sizeof(long)), value);

    /// <summary>Exactly <paramref name="count"/> bytes, with no length: the reader knows it.</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is null or has another length.</exception>
    public void WriteBytes(ReadOnlySpan<byte> values, int count, [CallerArgumentExpression(nameof(values))] string? field = null)
    {
        CheckCount(values.Length, count, field);
        values.CopyTo(Reserve(count));
    }

    /// <summary>A byte array of any length, behind a 32-bit length.</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is null.</exception>
    public void WriteByteArray(byte[]? values, [CallerArgumentExpression(nameof(values))] string? field = null)
    {
        if (values is null)
            throw new ArgumentException($"section '{Section}': {field} is null", nameof(values));
        WriteInt32(values.Length);
        values.CopyTo(Reserve(values.Length));
    }

    /// <inheritdoc cref="WriteBytes"/>
    public void WriteUInt32s(ReadOnlySpan<uint> values, int count, [CallerArgumentExpression(nameof(values))] string? field = null)
    {
        CheckCount(values.Length, count, field);
        Span<byte> target = Reserve(count * sizeof(uint));
        for (int i = 0; i < count; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(target[(i * sizeof(uint))..], values[i]);
    }

    /// <inheritdoc cref="WriteBytes"/>
    public void WriteUInt64s(ReadOnlySpan<ulong> values, int count, [CallerArgumentExpression(nameof(values))] string? field = null)
    {
        CheckCount(values.Length, count, field);
        Span<byte> target = Reserve(count * sizeof(ulong));
        for (int i = 0; i < count; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(target[(i * sizeof(ulong))..], values[i]);
    }

    internal void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    internal void PatchUInt16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(offset), value);

    internal void PatchUInt32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(offset), value);

    /// <summary>Drops what was written after <paramref name="position"/> (a section whose writing failed).</summary>
    internal void Truncate(int position) => _position = position;

    internal void Release()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _position = 0;
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }

    private void CheckCount(int length, int count, string? field)
    {
        // A null array arrives as an empty span, so this also refuses nulls.
        if (length != count)
            throw new ArgumentException($"section '{Section}': {field} has {length} entries; the section holds exactly {count}");
    }

    private Span<byte> Reserve(int length)
    {
        if (_buffer.Length - _position < length)
            Grow(length);
        Span<byte> span = _buffer.AsSpan(_position, length);
        _position += length;
        return span;
    }

    private void Grow(int length)
    {
        long needed = (long)_position + length;
        if (needed > Array.MaxLength)
            throw new InvalidOperationException($"a snapshot cannot exceed {Array.MaxLength} bytes");
        byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _buffer.Length)));
        _buffer.AsSpan(0, _position).CopyTo(larger);
        if (_buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
