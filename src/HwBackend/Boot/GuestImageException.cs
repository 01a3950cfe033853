namespace Actors.HwBackend.Boot;

/// <summary>
/// A guest image that cannot be loaded. The message is one line that names the problem, because
/// it reaches users directly (a bad <c>-kernel</c> argument is a user mistake, not a host bug).
/// </summary>
public sealed class GuestImageException : Exception
{
    public GuestImageException(string message)
        : base(message)
    {
    }
}
