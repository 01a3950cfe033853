using System.Buffers.Binary;

namespace Actors.HwBackend.Snapshots;

/// <summary>
/// Builds a machine snapshot (see <see cref="SnapshotFormat"/>) from sections, each written by the
/// state it holds. Sections may come in any order; a reader looks them up by id.
/// </summary>
public sealed class SnapshotWriter : IDisposable
{
    private readonly SnapshotSectionWriter _out;
    private int _sections;
    private bool _disposed;

    /// <param name="capacity">Bytes to start with; the buffer grows as needed.</param>
    public SnapshotWriter(int capacity = 16 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, SnapshotFormat.HeaderSize + SnapshotFormat.TrailerSize);
        _out = new SnapshotSectionWriter(capacity);
        _out.WriteRaw(SnapshotFormat.Magic);
        _out.WriteUInt16(SnapshotFormat.Version);
        _out.WriteUInt16(0); // section count, patched by ToArray
        _out.WriteUInt32(0); // total length, likewise
    }

    /// <summary>Appends <paramref name="section"/> under <paramref name="id"/> at its type's current version.</summary>
    /// <exception cref="ArgumentException">The id is not a valid section id, or the state cannot be encoded (a null or missized array).</exception>
    public void Add<TSection>(string id, TSection section)
        where TSection : ISnapshotSection<TSection>
    {
        ArgumentNullException.ThrowIfNull(section);
        int start = BeginSection(id, TSection.SnapshotVersion);
        try
        {
            section.Write(_out);
        }
        catch
        {
            _out.Truncate(start);
            throw;
        }
        EndSection(start);
    }

    /// <summary>
    /// Appends a section as some writer encoded it, unread: for copying sections from one snapshot
    /// into another (and for tests that build snapshots this build would not write).
    /// </summary>
    public void AddVerbatim(string id, ushort version, ReadOnlySpan<byte> payload)
    {
        int start = BeginSection(id, version);
        _out.WriteRaw(payload);
        EndSection(start);
    }

    /// <summary>The snapshot so far, with its header and integrity check; more sections may follow.</summary>
    public byte[] ToArray()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int length = _out.Position + SnapshotFormat.TrailerSize;
        _out.PatchUInt16(SnapshotFormat.SectionCountOffset, (ushort)_sections);
        _out.PatchUInt32(SnapshotFormat.TotalLengthOffset, (uint)length);
        var snapshot = new byte[length];
        ReadOnlySpan<byte> content = _out.Written;
        content.CopyTo(snapshot);
        BinaryPrimitives.WriteUInt32LittleEndian(snapshot.AsSpan(content.Length), Crc32C.Compute(content));
        return snapshot;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _out.Release();
    }

    private int BeginSection(string id, ushort version)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(id);
        if (!SnapshotFormat.IsValidId(id))
            throw new ArgumentException($"'{id}' is not a snapshot section id: 1 to {SnapshotFormat.MaxIdLength} of a-z, 0-9, '-' and '/'", nameof(id));
        if (_sections == ushort.MaxValue)
            throw new InvalidOperationException($"a snapshot holds at most {ushort.MaxValue} sections");
        int start = _out.Position;
        _out.WriteByte((byte)id.Length);
        foreach (char c in id)
            _out.WriteByte((byte)c);
        _out.WriteUInt16(version);
        _out.WriteUInt32(0); // payload length, patched by EndSection
        _out.Section = id;
        return start;
    }

    private void EndSection(int start)
    {
        int lengthOffset = start + 1 + _out.Section.Length + sizeof(ushort);
        int payloadStart = lengthOffset + sizeof(uint);
        _out.PatchUInt32(lengthOffset, (uint)(_out.Position - payloadStart));
        _out.Section = "";
        _sections++;
    }
}
