namespace Actors.HwBackend.Storage;

/// <summary>The sense keys (SPC-3 4.5.6) this disk reports: the class of failure a guest's error handling branches on first.</summary>
public enum SenseKey : byte
{
    NoSense = 0x0,

    /// <summary>The disk cannot serve the command yet: Linux tries it again.</summary>
    NotReady = 0x2,

    /// <summary>The store failed the read, write or flush: Linux fails the I/O rather than retry it forever.</summary>
    MediumError = 0x3,

    /// <summary>The command was wrong, not the disk: Linux does not retry it.</summary>
    IllegalRequest = 0x5,
}
