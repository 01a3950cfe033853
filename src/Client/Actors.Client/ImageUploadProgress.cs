namespace Actors.Client;

/// <summary>
/// How far an image upload has come: <paramref name="BytesSent"/> of <paramref name="TotalBytes"/> of
/// <paramref name="Image"/> (its file name, or its content id where no file is known). An image the
/// store already holds is reported once with <paramref name="AlreadyStored"/> and nothing sent, so a
/// caller can say why no bytes moved.
/// </summary>
/// <param name="Image">The image's file name, or its content id where no file is known.</param>
/// <param name="BytesSent">Bytes of the image sent so far.</param>
/// <param name="TotalBytes">The image's size in bytes.</param>
/// <param name="AlreadyStored">Whether the store already held the image, so nothing was sent.</param>
public sealed record ImageUploadProgress(string Image, long BytesSent, long TotalBytes, bool AlreadyStored = false)
{
    /// <summary>Whether the upload is over: every byte sent, or nothing to send.</summary>
    public bool Done => AlreadyStored || BytesSent >= TotalBytes;
}
