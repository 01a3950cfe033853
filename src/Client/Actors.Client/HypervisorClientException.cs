namespace Actors.Client;

/// <summary>
/// A problem on the client's side of the cluster (gateway unreachable, local file unreadable, timeout)
/// whose message is one line naming the problem and the fix, like <see cref="Actors.Grains.HypervisorException"/>
/// is for refusals by the grains.
/// </summary>
public sealed class HypervisorClientException : Exception
{
    /// <summary>A client-side problem.</summary>
    /// <param name="message">One line naming the problem and the fix.</param>
    public HypervisorClientException(string message)
        : base(message)
    {
    }

    /// <summary>A client-side problem caused by another failure, kept as the inner exception.</summary>
    /// <param name="message">One line naming the problem and the fix.</param>
    /// <param name="inner">The failure behind it.</param>
    public HypervisorClientException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
