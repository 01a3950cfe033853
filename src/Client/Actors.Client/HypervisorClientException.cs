namespace Actors.Client;

/// <summary>
/// A problem on the client's side of the cluster (gateway unreachable, local file unreadable, timeout)
/// whose message is one line naming the problem and the fix, like <see cref="Actors.Grains.HypervisorException"/>
/// is for refusals by the grains.
/// </summary>
public sealed class HypervisorClientException : Exception
{
    public HypervisorClientException(string message)
        : base(message)
    {
    }

    public HypervisorClientException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
