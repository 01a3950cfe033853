namespace Actors.Grains;

/// <summary>
/// How a call fails while the cluster is still noticing that a silo died: refused, rejected, or not
/// answered in time. Worth asking again once membership has caught up; not an answer.
/// </summary>
public static class SiloLoss
{
    /// <summary>Whether <paramref name="error"/> is one of those failures: a silo unavailable, a message rejected, or a timeout.</summary>
    public static bool IsTransient(Exception error) =>
        error is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;
}
