namespace Actors.Client;

/// <summary>
/// How far an image upload has come: <paramref name="BytesSent"/> of <paramref name="TotalBytes"/> of
/// <paramref name="Image"/> (its file name, or its content id where no file is known). An image the
/// store already holds is reported once with <paramref name="AlreadyStored"/> and nothing sent, so a
/// caller can say why no bytes moved.
/// </summary>
public sealed record ImageUploadProgress(string Image, long BytesSent, long TotalBytes, bool AlreadyStored = false)
{
    public bool Done => AlreadyStored || BytesSent >= TotalBytes;
}
