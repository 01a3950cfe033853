using System.Buffers.Binary;
using System.Text;

namespace Actors.HwBackend.Snapshots;

/// <summary>
/// A machine snapshot, checked and indexed: <see cref="Open"/> refuses a damaged, truncated or
/// foreign snapshot before any section is decoded, and <see cref="Read{TSection}"/> refuses a
/// section this build cannot take. Every refusal is a <see cref="SnapshotException"/> whose
/// message names the section or header at fault.
/// </summary>
public readonly ref struct SnapshotReader
{
    private readonly ReadOnlySpan<byte> _snapshot;
    private readonly SnapshotSectionInfo[] _sections;
    private readonly Dictionary<string, int> _indexById;
    private readonly bool[] _read;

    private SnapshotReader(ReadOnlySpan<byte> snapshot, SnapshotSectionInfo[] sections, Dictionary<string, int> indexById)
    {
        _snapshot = snapshot;
        _sections = sections;
        _indexById = indexById;
        _read = new bool[sections.Length];
    }

    /// <summary>The sections in the order they were written.</summary>
    public IReadOnlyList<SnapshotSectionInfo> Sections => _sections;

    /// <summary>Checks the header, the integrity check and every section's framing.</summary>
    /// <exception cref="SnapshotException">The bytes are not a whole, undamaged snapshot this build's format reads.</exception>
    public static SnapshotReader Open(ReadOnlySpan<byte> snapshot)
    {
        // The magic first: an old build's JSON state, say, is foreign rather than short.
        if (snapshot.Length >= SnapshotFormat.Magic.Length && !snapshot.StartsWith(SnapshotFormat.Magic))
            throw new SnapshotException($"snapshot header: not a machine snapshot (it does not start with \"{Encoding.ASCII.GetString(SnapshotFormat.Magic)}\")");
        const int minimum = SnapshotFormat.HeaderSize + SnapshotFormat.TrailerSize;
        if (snapshot.Length < minimum)
            throw new SnapshotException($"snapshot header: {snapshot.Length} bytes are too few for a machine snapshot (at least {minimum})");
        ushort format = BinaryPrimitives.ReadUInt16LittleEndian(snapshot[SnapshotFormat.VersionOffset..]);
        if (format > SnapshotFormat.Version)
            throw new SnapshotException($"snapshot header: format version {format} is newer than this build reads (up to {SnapshotFormat.Version})");
        if (format == 0)
            throw new SnapshotException("snapshot header: format version 0 is not one any build writes");
        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(snapshot[SnapshotFormat.TotalLengthOffset..]);
        if (declared > snapshot.Length)
            throw new SnapshotException($"snapshot is truncated: {snapshot.Length} of its {declared} bytes arrived");
        if (declared < snapshot.Length)
            throw new SnapshotException($"snapshot header: it says {declared} bytes, but {snapshot.Length} arrived");

        ReadOnlySpan<byte> content = snapshot[..^SnapshotFormat.TrailerSize];
        uint recorded = BinaryPrimitives.ReadUInt32LittleEndian(snapshot[^SnapshotFormat.TrailerSize..]);
        uint computed = Crc32C.Compute(content);
        if (computed != recorded)
            throw new SnapshotException($"snapshot integrity check failed: its content has CRC-32C 0x{computed:X8}, the snapshot records 0x{recorded:X8}; it was damaged");

        int count = BinaryPrimitives.ReadUInt16LittleEndian(snapshot[SnapshotFormat.SectionCountOffset..]);
        var sections = new SnapshotSectionInfo[count];
        var indexById = new Dictionary<string, int>(count, StringComparer.Ordinal);
        int position = SnapshotFormat.HeaderSize;
        for (int i = 0; i < count; i++)
        {
            SnapshotSectionInfo section = ReadFraming(content, ref position, i, count);
            if (!indexById.TryAdd(section.Id, i))
                throw SnapshotException.InSection(section.Id, "appears twice");
            sections[i] = section;
        }
        if (position != content.Length)
            throw new SnapshotException($"snapshot header: {content.Length - position} bytes follow the last of its {count} sections");
        return new SnapshotReader(snapshot, sections, indexById);
    }

    /// <summary>The payload of <see cref="Sections"/>[<paramref name="index"/>], undecoded.</summary>
    public ReadOnlySpan<byte> Payload(int index)
    {
        SnapshotSectionInfo section = _sections[index];
        return _snapshot.Slice(section.PayloadOffset, section.PayloadLength);
    }

    public bool Contains(string id) => _indexById.ContainsKey(id);

    /// <summary>Decodes section <paramref name="id"/>; its whole payload must be its fields.</summary>
    /// <exception cref="SnapshotException">The section is missing, of a version this build does not read, or does not decode.</exception>
    public TSection Read<TSection>(string id)
        where TSection : ISnapshotSection<TSection>
    {
        if (!_indexById.TryGetValue(id, out int index))
            throw SnapshotException.InSection(id, "is missing");
        _read[index] = true;
        SnapshotSectionInfo section = _sections[index];
        if (section.Version == 0)
            throw SnapshotException.InSection(id, "version 0 is not one any build writes");
        if (section.Version > TSection.SnapshotVersion)
            throw SnapshotException.InSection(id, $"version {section.Version} is newer than this build reads (up to {TSection.SnapshotVersion})");
        var reader = new SnapshotSectionReader(id, section.Version, Payload(index));
        TSection state = TSection.Read(ref reader, section.Version);
        if (reader.Remaining != 0)
            throw reader.Refuse($"{reader.Remaining} bytes are left over after its version {section.Version} fields");
        return state;
    }

    /// <summary>Refuses a snapshot with a section nobody read: state this build would silently drop.</summary>
    public void EnsureEverySectionRead()
    {
        for (int i = 0; i < _sections.Length; i++)
        {
            if (!_read[i])
                throw SnapshotException.InSection(_sections[i].Id, $"(version {_sections[i].Version}) is unknown to this build or this machine");
        }
    }

    private static SnapshotSectionInfo ReadFraming(ReadOnlySpan<byte> content, ref int position, int index, int count)
    {
        if (content.Length - position < 1)
            throw Framing(index, count, "the snapshot ends before it");
        int idLength = content[position];
        if (idLength is 0 or > SnapshotFormat.MaxIdLength)
            throw Framing(index, count, $"its id length {idLength} is outside 1..{SnapshotFormat.MaxIdLength}");
        if (content.Length - position < SnapshotFormat.SectionOverhead + idLength)
            throw Framing(index, count, "the snapshot ends inside its header");
        // Latin-1 maps every byte to one char, so a non-ASCII byte shows up as an invalid id.
        string id = Encoding.Latin1.GetString(content.Slice(position + 1, idLength));
        if (!SnapshotFormat.IsValidId(id))
            throw Framing(index, count, "its id is not a section id");
        int cursor = position + 1 + idLength;
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(content[cursor..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(content[(cursor + sizeof(ushort))..]);
        int payloadOffset = cursor + sizeof(ushort) + sizeof(uint);
        if (length > (uint)(content.Length - payloadOffset))
            throw SnapshotException.InSection(id, $"its {length}-byte payload runs past the end of the snapshot");
        position = payloadOffset + (int)length;
        return new SnapshotSectionInfo(id, version, payloadOffset, (int)length);
    }

    private static SnapshotException Framing(int index, int count, string problem) =>
        new($"snapshot section #{index + 1} of {count}: {problem}");
}
