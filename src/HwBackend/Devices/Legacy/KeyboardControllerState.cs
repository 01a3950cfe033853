using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="KeyboardController"/>, for save/restore and live migration.</summary>
/// <param name="PendingCommand">A command waiting for its data byte on port 0x60, or 0.</param>
public sealed record KeyboardControllerState(byte Status, byte CommandByte, byte OutputPort, byte PendingCommand, byte OutputBuffer)
    : ISnapshotSection<KeyboardControllerState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteByte(Status);
        writer.WriteByte(CommandByte);
        writer.WriteByte(OutputPort);
        writer.WriteByte(PendingCommand);
        writer.WriteByte(OutputBuffer);
    }

    public static KeyboardControllerState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadByte(), reader.ReadByte(), reader.ReadByte(), reader.ReadByte(), reader.ReadByte());
}
